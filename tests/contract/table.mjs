// The contract table: one entry per implemented GHL operation, run top to bottom.
//
// An entry names the operation as the official spec does (spec file apps/<spec>.json,
// operationId, method, path template; contract.mjs checks these agree with the spec) and
// lists its cases. A case builds the request from the scenario state `s` and gives the status
// it expects; the response body is validated against the schema the spec declares for that
// (operation, status). Optional per case:
//   what:   a few words for the report (default: the status)
//   req(s): {path: {param: value}, query, body (JSON), form (form-urlencoded), token (null:
//           none), version (null: none)};
//           Version defaults to the one the spec declares for the operation
//   keep(s, body): store ids for later entries
//   expect(s, body): a string when the body is valid but wrong (round-trip checks)
// Setup calls that are not under test go through s.api(method, path, opts) (see
// Emulator.call) or s.admin(method, '/oauth/clients', body) (the emulator's admin API).
//
// Scenario state `s` starts with the emulator's banner: s.locationId, s.companyId, s.token,
// s.userId, s.pipelineId, s.calendarId, s.customFields['contact.pincode'] (ids by field key),
// and s.slotMs, a free 30-minute slot (tomorrow, on the hour).

const BAD_TOKEN = { token: 'not-a-token' };
const UNKNOWN_ID = 'contract0000000000000';

export const TABLE = [
  // ---- contacts (apps/contacts.json, Version 2021-07-28) ----
  {
    op: 'create-contact', spec: 'contacts', method: 'POST', path: '/contacts/',
    cases: [
      {
        status: 201,
        req: (s) => ({
          body: {
            locationId: s.locationId, firstName: 'Ada', lastName: 'Lovelace',
            email: 'ada.contract@example.com', phone: '+15550100001', source: 'contract test',
            tags: ['vip', 'math'], dnd: false,
            dndSettings: { Email: { status: 'active', message: 'opted out', code: '' } },
            customFields: [
              { key: 'pincode', field_value: '12345' },
              { id: s.customFields['contact.lifetime_value'], field_value: 1234.5 },
            ],
          },
        }),
        keep: (s, b) => { s.contactId = b.contact.id; },
        expect: (s, b) => (b.contact.customFields.some((f) => f.value === 1234.5) ? '' : 'the MONETORY custom field value did not come back as the number written'),
      },
      { status: 400, what: 'duplicate email', req: (s) => ({ body: { locationId: s.locationId, email: 'ADA.contract@example.com' } }) },
      { status: 422, what: 'unknown property', req: (s) => ({ body: { locationId: s.locationId, favouriteColour: 'blue' } }) },
      { status: 401, what: 'invalid token', req: (s) => ({ ...BAD_TOKEN, body: { locationId: s.locationId } }) },
    ],
  },
  {
    op: 'get-contact', spec: 'contacts', method: 'GET', path: '/contacts/{contactId}',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { contactId: s.contactId } }),
        expect: (s, b) => (b.contact.id === s.contactId && b.contact.email === 'ada.contract@example.com' ? '' : 'not the contact created'),
      },
      { status: 400, what: 'unknown contact', req: () => ({ path: { contactId: UNKNOWN_ID } }) },
      { status: 400, what: 'wrong Version header', req: (s) => ({ path: { contactId: s.contactId }, version: '2021-04-15' }) },
      { status: 401, what: 'no token', req: (s) => ({ path: { contactId: s.contactId }, token: null }) },
    ],
  },
  {
    op: 'update-contact', spec: 'contacts', method: 'PUT', path: '/contacts/{contactId}',
    cases: [
      {
        status: 200,
        req: (s) => ({
          path: { contactId: s.contactId },
          body: { firstName: 'Augusta', customFields: [{ key: 'membership_level', field_value: 'Gold' }] },
        }),
        expect: (s, b) => (b.contact.firstName === 'Augusta' ? '' : 'firstName not updated'),
      },
      { status: 400, what: 'unknown contact', req: () => ({ path: { contactId: UNKNOWN_ID }, body: { firstName: 'X' } }) },
      { status: 422, what: 'locationId in body', req: (s) => ({ path: { contactId: s.contactId }, body: { locationId: s.locationId } }) },
      { status: 401, what: 'invalid token', req: (s) => ({ ...BAD_TOKEN, path: { contactId: s.contactId }, body: {} }) },
    ],
  },
  {
    op: 'upsert-contact', spec: 'contacts', method: 'POST', path: '/contacts/upsert',
    cases: [
      {
        status: 200, what: 'matches by email',
        req: (s) => ({ body: { locationId: s.locationId, email: 'ada.contract@example.com', city: 'London' } }),
        expect: (s, b) => (b.new === false && b.contact.id === s.contactId ? '' : 'did not update the existing contact'),
      },
      {
        status: 200, what: 'creates',
        req: (s) => ({ body: { locationId: s.locationId, firstName: 'Grace', email: 'grace.contract@example.com', tags: ['navy'] } }),
        keep: (s, b) => { s.graceId = b.contact.id; },
        expect: (s, b) => (b.new === true ? '' : 'new should be true'),
      },
      { status: 422, what: 'bad email', req: (s) => ({ body: { locationId: s.locationId, email: 'not an email' } }) },
      { status: 400, what: 'unknown location', req: () => ({ body: { locationId: UNKNOWN_ID, firstName: 'X' } }) },
    ],
  },
  {
    op: 'get-duplicate-contact', spec: 'contacts', method: 'GET', path: '/contacts/search/duplicate',
    cases: [
      {
        status: 200, what: 'found',
        req: (s) => ({ query: { locationId: s.locationId, email: 'grace.contract@example.com' } }),
        expect: (s, b) => (b.contact && b.contact.id === s.graceId ? '' : 'did not find the contact by email'),
      },
      {
        status: 200, what: 'none',
        req: (s) => ({ query: { locationId: s.locationId, email: 'nobody.contract@example.com' } }),
        expect: (s, b) => (b.contact === null ? '' : 'expected contact: null'),
      },
      { status: 400, what: 'unknown location', req: () => ({ query: { locationId: UNKNOWN_ID, email: 'a@b.c' } }) },
      { status: 401, what: 'no token', req: (s) => ({ query: { locationId: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'add-tags', spec: 'contacts', method: 'POST', path: '/contacts/{contactId}/tags',
    cases: [
      {
        status: 201,
        req: (s) => ({ path: { contactId: s.contactId }, body: { tags: ['newsletter'] } }),
        expect: (s, b) => (b.tags.includes('newsletter') && b.tags.includes('vip') ? '' : 'tags not merged'),
      },
      { status: 422, what: 'tags not an array', req: (s) => ({ path: { contactId: s.contactId }, body: { tags: 'newsletter' } }) },
      { status: 400, what: 'unknown contact', req: () => ({ path: { contactId: UNKNOWN_ID }, body: { tags: ['x'] } }) },
    ],
  },
  {
    op: 'remove-tags', spec: 'contacts', method: 'DELETE', path: '/contacts/{contactId}/tags',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { contactId: s.contactId }, body: { tags: ['math'] } }),
        expect: (s, b) => (!b.tags.includes('math') && b.tags.includes('vip') ? '' : 'tag not removed'),
      },
      { status: 422, what: 'tags missing', req: (s) => ({ path: { contactId: s.contactId }, body: {} }) },
      { status: 401, what: 'invalid token', req: (s) => ({ ...BAD_TOKEN, path: { contactId: s.contactId }, body: { tags: ['x'] } }) },
    ],
  },
  {
    op: 'get-contacts', spec: 'contacts', method: 'GET', path: '/contacts/',
    cases: [
      {
        status: 200,
        req: (s) => ({ query: { locationId: s.locationId, limit: '10' } }),
        expect: (s, b) => (b.contacts.some((c) => c.id === s.contactId) ? '' : 'the created contact is not listed'),
      },
      { status: 422, what: 'limit over 100', req: (s) => ({ query: { locationId: s.locationId, limit: '500' } }) },
      { status: 401, what: 'no token', req: (s) => ({ query: { locationId: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'search-contacts-advanced', spec: 'contacts', method: 'POST', path: '/contacts/search',
    cases: [
      {
        status: 200,
        req: (s) => ({
          body: {
            locationId: s.locationId, page: 1, pageLimit: 10,
            filters: [{ field: 'email', operator: 'eq', value: 'ada.contract@example.com' }],
            sort: [{ field: 'dateAdded', direction: 'desc' }],
          },
        }),
        expect: (s, b) => (b.total === 1 && b.contacts[0].id === s.contactId ? '' : 'the filter did not find exactly the contact'),
      },
      { status: 400, what: 'page*pageLimit > 10000', req: (s) => ({ body: { locationId: s.locationId, page: 100, pageLimit: 500 } }) },
      { status: 422, what: 'pageLimit missing', req: (s) => ({ body: { locationId: s.locationId } }) },
      { status: 401, what: 'invalid token', req: (s) => ({ ...BAD_TOKEN, body: { locationId: s.locationId, pageLimit: 1 } }) },
    ],
  },
  {
    op: 'delete-contact', spec: 'contacts', method: 'DELETE', path: '/contacts/{contactId}',
    cases: [
      { status: 200, req: (s) => ({ path: { contactId: s.graceId } }) },
      { status: 400, what: 'already deleted', req: (s) => ({ path: { contactId: s.graceId } }) },
      { status: 401, what: 'no token', req: (s) => ({ path: { contactId: s.contactId }, token: null }) },
    ],
  },

  // ---- opportunities (apps/opportunities.json, Version 2021-07-28) ----
  {
    op: 'get-pipelines', spec: 'opportunities', method: 'GET', path: '/opportunities/pipelines',
    cases: [
      {
        status: 200,
        req: (s) => ({ query: { locationId: s.locationId } }),
        keep: (s, b) => {
          const p = b.pipelines.find((x) => x.id === s.pipelineId);
          s.stageIds = p.stages.map((st) => st.id);
        },
      },
      { status: 400, what: 'unknown location', req: () => ({ query: { locationId: UNKNOWN_ID } }) },
      { status: 401, what: 'no token', req: (s) => ({ query: { locationId: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'create-opportunity', spec: 'opportunities', method: 'POST', path: '/opportunities/',
    cases: [
      {
        status: 201,
        req: (s) => ({
          body: {
            locationId: s.locationId, pipelineId: s.pipelineId, pipelineStageId: s.stageIds[0],
            contactId: s.contactId, name: 'Analytical Engine', status: 'open', monetaryValue: 2500,
            customFields: [{ key: 'contract_months', field_value: '12' }], // customFieldsInputStringSchema
          },
        }),
        keep: (s, b) => { s.opportunityId = b.opportunity.id; },
        expect: (s, b) => (b.opportunity.contactId === s.contactId && b.opportunity.monetaryValue === 2500 ? '' : 'not the opportunity written'),
      },
      { status: 400, what: 'unknown pipeline', req: (s) => ({ body: { locationId: s.locationId, pipelineId: UNKNOWN_ID, contactId: s.contactId, name: 'X', status: 'open' } }) },
      { status: 422, what: 'name and status missing', req: (s) => ({ body: { locationId: s.locationId, pipelineId: s.pipelineId, contactId: s.contactId } }) },
      { status: 401, what: 'invalid token', req: (s) => ({ ...BAD_TOKEN, body: { locationId: s.locationId } }) },
    ],
  },
  {
    op: 'get-opportunity', spec: 'opportunities', method: 'GET', path: '/opportunities/{id}',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { id: s.opportunityId } }),
        expect: (s, b) => (b.opportunity.id === s.opportunityId ? '' : 'not the opportunity created'),
      },
      { status: 400, what: 'unknown opportunity', req: () => ({ path: { id: UNKNOWN_ID } }) },
      { status: 401, what: 'no token', req: (s) => ({ path: { id: s.opportunityId }, token: null }) },
    ],
  },
  {
    op: 'update-opportunity', spec: 'opportunities', method: 'PUT', path: '/opportunities/{id}',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { id: s.opportunityId }, body: { pipelineStageId: s.stageIds[1], monetaryValue: 3000 } }),
        expect: (s, b) => (b.opportunity.pipelineStageId === s.stageIds[1] ? '' : 'stage not moved'),
      },
      { status: 422, what: 'unknown property', req: (s) => ({ path: { id: s.opportunityId }, body: { contactId: s.contactId } }) },
      { status: 400, what: 'unknown opportunity', req: () => ({ path: { id: UNKNOWN_ID }, body: { name: 'X' } }) },
    ],
  },
  {
    op: 'update-opportunity-status', spec: 'opportunities', method: 'PUT', path: '/opportunities/{id}/status',
    cases: [
      { status: 200, req: (s) => ({ path: { id: s.opportunityId }, body: { status: 'won' } }) },
      { status: 422, what: 'bad status', req: (s) => ({ path: { id: s.opportunityId }, body: { status: 'finished' } }) },
      { status: 400, what: 'unknown opportunity', req: () => ({ path: { id: UNKNOWN_ID }, body: { status: 'won' } }) },
    ],
  },
  {
    op: 'Upsert-opportunity', spec: 'opportunities', method: 'POST', path: '/opportunities/upsert',
    cases: [
      {
        status: 200, what: 'matches contact+pipeline',
        req: (s) => ({ body: { locationId: s.locationId, pipelineId: s.pipelineId, contactId: s.contactId, monetaryValue: 4000 } }),
        expect: (s, b) => (b.new === false && b.opportunity.id === s.opportunityId ? '' : 'did not update the existing opportunity'),
      },
      {
        status: 200, what: 'creates',
        req: async (s) => {
          const c = await s.api('POST', '/contacts/', { body: { locationId: s.locationId, firstName: 'Charles' }, version: '2021-07-28' });
          return { body: { locationId: s.locationId, pipelineId: s.pipelineId, contactId: c.body.contact.id, name: 'Compiler', status: 'open' } };
        },
        keep: (s, b) => { s.opportunity2Id = b.opportunity.id; },
        expect: (s, b) => (b.new === true ? '' : 'new should be true'),
      },
      { status: 422, what: 'pipelineId missing', req: (s) => ({ body: { locationId: s.locationId, contactId: s.contactId } }) },
    ],
  },
  {
    op: 'search-opportunity', spec: 'opportunities', method: 'GET', path: '/opportunities/search',
    cases: [
      {
        status: 200,
        req: (s) => ({ query: { location_id: s.locationId, pipeline_id: s.pipelineId, status: 'all', limit: '10' } }),
        expect: (s, b) => (b.opportunities.some((o) => o.id === s.opportunityId) ? '' : 'the opportunity is not found'),
      },
      { status: 422, what: 'bad status', req: (s) => ({ query: { location_id: s.locationId, status: 'finished' } }) },
      { status: 401, what: 'no token', req: (s) => ({ query: { location_id: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'delete-opportunity', spec: 'opportunities', method: 'DELETE', path: '/opportunities/{id}',
    cases: [
      { status: 200, req: (s) => ({ path: { id: s.opportunity2Id } }) },
      { status: 400, what: 'already deleted', req: (s) => ({ path: { id: s.opportunity2Id } }) },
    ],
  },

  // ---- calendars (apps/calendars.json, Version 2021-04-15) ----
  {
    op: 'get-calendars', spec: 'calendars', method: 'GET', path: '/calendars/',
    cases: [
      {
        status: 200,
        req: (s) => ({ query: { locationId: s.locationId } }),
        expect: (s, b) => (b.calendars.some((c) => c.id === s.calendarId) ? '' : 'the seeded calendar is not listed'),
      },
      { status: 400, what: 'unknown location', req: () => ({ query: { locationId: UNKNOWN_ID } }) },
      { status: 401, what: 'no token', req: (s) => ({ query: { locationId: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'get-calendar', spec: 'calendars', method: 'GET', path: '/calendars/{calendarId}',
    cases: [
      { status: 200, req: (s) => ({ path: { calendarId: s.calendarId } }) },
      { status: 400, what: 'unknown calendar', req: () => ({ path: { calendarId: UNKNOWN_ID } }) },
      { status: 400, what: 'Version of contacts', req: (s) => ({ path: { calendarId: s.calendarId }, version: '2021-07-28' }) },
    ],
  },
  {
    op: 'create-appointment', spec: 'calendars', method: 'POST', path: '/calendars/events/appointments',
    cases: [
      {
        status: 200,
        req: (s) => ({
          body: {
            calendarId: s.calendarId, locationId: s.locationId, contactId: s.contactId,
            startTime: new Date(s.slotMs).toISOString(), endTime: new Date(s.slotMs + 30 * 60_000).toISOString(),
            title: 'Contract review', appointmentStatus: 'confirmed', assignedUserId: s.userId,
          },
        }),
        keep: (s, b) => { s.appointmentId = b.id; },
      },
      {
        status: 400, what: 'slot taken',
        req: (s) => ({ body: { calendarId: s.calendarId, locationId: s.locationId, contactId: s.contactId, startTime: new Date(s.slotMs).toISOString() } }),
      },
      { status: 401, what: 'invalid token', req: (s) => ({ ...BAD_TOKEN, body: { calendarId: s.calendarId } }) },
    ],
  },
  {
    op: 'get-appointment', spec: 'calendars', method: 'GET', path: '/calendars/events/appointments/{eventId}',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { eventId: s.appointmentId } }),
        expect: (s, b) => (b.event.id === s.appointmentId && b.event.title === 'Contract review' ? '' : 'not the appointment created'),
      },
      { status: 400, what: 'unknown appointment', req: () => ({ path: { eventId: UNKNOWN_ID } }) },
    ],
  },
  {
    op: 'edit-appointment', spec: 'calendars', method: 'PUT', path: '/calendars/events/appointments/{eventId}',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { eventId: s.appointmentId }, body: { title: 'Contract signing' } }),
        expect: (s, b) => (b.title === 'Contract signing' ? '' : 'title not updated'),
      },
      { status: 400, what: 'unknown appointment', req: () => ({ path: { eventId: UNKNOWN_ID }, body: { title: 'X' } }) },
      { status: 401, what: 'no token', req: (s) => ({ path: { eventId: s.appointmentId }, body: {}, token: null }) },
    ],
  },
  {
    op: 'get-calendar-events', spec: 'calendars', method: 'GET', path: '/calendars/events',
    cases: [
      {
        status: 200,
        req: (s) => ({
          query: { locationId: s.locationId, calendarId: s.calendarId, startTime: String(s.slotMs - 3600_000), endTime: String(s.slotMs + 3600_000) },
        }),
        expect: (s, b) => (b.events.some((e) => e.id === s.appointmentId) ? '' : 'the appointment is not listed'),
      },
      { status: 401, what: 'no token', req: (s) => ({ query: { locationId: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'delete-event', spec: 'calendars', method: 'DELETE', path: '/calendars/events/{eventId}',
    cases: [
      { status: 201, req: (s) => ({ path: { eventId: s.appointmentId }, body: {} }) },
      { status: 400, what: 'already deleted', req: (s) => ({ path: { eventId: s.appointmentId }, body: {} }) },
    ],
  },

  // ---- location custom fields (apps/locations.json, Version 2021-07-28) ----
  {
    op: 'get-custom-fields', spec: 'locations', method: 'GET', path: '/locations/{locationId}/customFields',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { locationId: s.locationId }, query: { model: 'all' } }),
        expect: (s, b) => (b.customFields.some((f) => f.fieldKey === 'opportunity.contract_months') ? '' : 'model=all lacks the opportunity field'),
      },
      { status: 422, what: 'bad model', req: (s) => ({ path: { locationId: s.locationId }, query: { model: 'invoice' } }) },
      { status: 401, what: 'no token', req: (s) => ({ path: { locationId: s.locationId }, token: null }) },
    ],
  },
  {
    op: 'create-custom-field', spec: 'locations', method: 'POST', path: '/locations/{locationId}/customFields',
    cases: [
      {
        status: 201,
        req: (s) => ({ path: { locationId: s.locationId }, body: { name: 'Contract Notes', dataType: 'LARGE_TEXT', model: 'contact' } }),
        keep: (s, b) => { s.customFieldId = b.customField.id; },
        expect: (s, b) => (b.customField.fieldKey === 'contact.contract_notes' ? '' : 'unexpected fieldKey'),
      },
      { status: 400, what: 'key exists', req: (s) => ({ path: { locationId: s.locationId }, body: { name: 'Contract Notes', dataType: 'TEXT' } }) },
      { status: 422, what: 'dataType missing', req: (s) => ({ path: { locationId: s.locationId }, body: { name: 'No Type' } }) },
    ],
  },
  {
    op: 'get-custom-field', spec: 'locations', method: 'GET', path: '/locations/{locationId}/customFields/{id}',
    cases: [
      { status: 200, req: (s) => ({ path: { locationId: s.locationId, id: s.customFieldId } }) },
      { status: 400, what: 'unknown field', req: (s) => ({ path: { locationId: s.locationId, id: UNKNOWN_ID } }) },
    ],
  },
  {
    op: 'update-custom-field', spec: 'locations', method: 'PUT', path: '/locations/{locationId}/customFields/{id}',
    cases: [
      {
        status: 200,
        req: (s) => ({ path: { locationId: s.locationId, id: s.customFieldId }, body: { name: 'Contract Remarks', model: 'contact' } }),
        expect: (s, b) => (b.customField.name === 'Contract Remarks' ? '' : 'name not updated'),
      },
      { status: 422, what: 'name not a string', req: (s) => ({ path: { locationId: s.locationId, id: s.customFieldId }, body: { name: 5, model: 'contact' } }) },
    ],
  },
  {
    op: 'delete-custom-field', spec: 'locations', method: 'DELETE', path: '/locations/{locationId}/customFields/{id}',
    cases: [
      { status: 200, req: (s) => ({ path: { locationId: s.locationId, id: s.customFieldId } }) },
      { status: 400, what: 'already deleted', req: (s) => ({ path: { locationId: s.locationId, id: s.customFieldId } }) },
    ],
  },

  // ---- OAuth (apps/oauth.json) ----
  // An app is registered and installed through the admin API (/_emulator/oauth/...).
  {
    op: 'get-access-token', spec: 'oauth', method: 'POST', path: '/oauth/token',
    cases: [
      {
        status: 200, what: 'code, Location',
        req: async (s) => {
          const app = (await s.admin('POST', '/oauth/clients', {})).body;
          s.app = app;
          const { code } = (await s.admin('POST', '/oauth/authorize', { clientId: app.clientId, userType: 'Location', locationId: s.locationId })).body;
          return { token: null, form: { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'authorization_code', code, user_type: 'Location' } };
        },
        keep: (s, b) => { s.refreshToken = b.refresh_token; },
        expect: (s, b) => (b.locationId === s.locationId && b.userType === 'Location' ? '' : 'not a location token for the location'),
      },
      {
        status: 200, what: 'refresh, Location',
        req: (s) => ({ token: null, form: { client_id: s.app.clientId, client_secret: s.app.clientSecret, grant_type: 'refresh_token', refresh_token: s.refreshToken, user_type: 'Location' } }),
        expect: (s, b) => (b.refresh_token && b.refresh_token !== s.refreshToken ? '' : 'the refresh token did not rotate'),
      },
      {
        status: 200, what: 'code, Company',
        req: async (s) => {
          const { code } = (await s.admin('POST', '/oauth/authorize', { clientId: s.app.clientId, userType: 'Company', companyId: s.companyId })).body;
          return { token: null, form: { client_id: s.app.clientId, client_secret: s.app.clientSecret, grant_type: 'authorization_code', code, user_type: 'Company' } };
        },
        keep: (s, b) => { s.agencyToken = b.access_token; },
        expect: (s, b) => (b.companyId === s.companyId && b.userType === 'Company' ? '' : 'not a company token'),
      },
      {
        status: 400, what: 'used refresh token',
        req: (s) => ({ token: null, form: { client_id: s.app.clientId, client_secret: s.app.clientSecret, grant_type: 'refresh_token', refresh_token: s.refreshToken } }),
      },
      {
        status: 401, what: 'wrong client secret',
        req: (s) => ({ token: null, form: { client_id: s.app.clientId, client_secret: 'wrong', grant_type: 'refresh_token', refresh_token: 'x' } }),
      },
      { status: 422, what: 'grant_type missing', req: (s) => ({ token: null, form: { client_id: s.app.clientId, client_secret: s.app.clientSecret } }) },
    ],
  },
  {
    op: 'get-location-access-token', spec: 'oauth', method: 'POST', path: '/oauth/locationToken',
    cases: [
      {
        status: 200,
        req: (s) => ({ token: s.agencyToken, form: { companyId: s.companyId, locationId: s.locationId } }),
        expect: (s, b) => (b.locationId === s.locationId ? '' : 'not a token for the location'),
      },
      { status: 400, what: 'unknown location', req: (s) => ({ token: s.agencyToken, form: { companyId: s.companyId, locationId: UNKNOWN_ID } }) },
      { status: 401, what: 'location token', req: (s) => ({ form: { companyId: s.companyId, locationId: s.locationId } }) },
      { status: 422, what: 'locationId missing', req: (s) => ({ token: s.agencyToken, form: { companyId: s.companyId } }) },
    ],
  },
  {
    op: 'get-installed-location', spec: 'oauth', method: 'GET', path: '/oauth/installedLocations',
    cases: [
      {
        status: 200,
        req: (s) => ({ token: s.agencyToken, query: { companyId: s.companyId, appId: s.app.appId } }),
        expect: (s, b) => (b.locations.some((l) => l._id === s.locationId && l.isInstalled) ? '' : 'the location is not listed as installed'),
      },
      { status: 422, what: 'appId missing', req: (s) => ({ token: s.agencyToken, query: { companyId: s.companyId } }) },
      { status: 401, what: 'no token', req: (s) => ({ token: null, query: { companyId: s.companyId, appId: s.app.appId } }) },
    ],
  },
];
