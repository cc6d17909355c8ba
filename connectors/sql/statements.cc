#include "connectors/sql/statements.h"

#include "connectors/sql/values.h"

namespace ghl::connectors::sql {

Kind Catalog::KindOf(const std::string& column) const {
  auto it = kinds.find(column);
  return it == kinds.end() ? Kind::kOther : it->second;
}

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

// Accumulates the parameters of one statement and names their placeholders.
class Statements::Builder {
 public:
  explicit Builder(const Statements& s) : s_(s) {}

  std::string Bind(Value v) {
    sql.params.push_back(std::move(v));
    return s_.driver_.Placeholder(static_cast<int>(sql.params.size()));
  }
  std::string BindKeyPart(const std::string& column, const std::string& text) {
    return Bind(KeyPart(text, s_.catalog_.KindOf(column)));
  }

  // "a" = ?1 AND "b" = ?2
  std::string KeyEquals(const std::vector<std::string>& key) {
    std::string out;
    for (size_t i = 0; i < key.size(); ++i) {
      const auto& column = s_.source_.key_columns[i];
      out += (i ? " AND " : "") + QuoteIdentifier(column) + " = " + BindKeyPart(column, key[i]);
    }
    return out;
  }

  // ("a", "b") > (?1, ?2): the row comparison both databases can serve from an index.
  std::string After(const std::vector<std::string>& columns,
                    const std::vector<std::string>& texts) {
    std::string lhs, rhs;
    for (size_t i = 0; i < columns.size(); ++i) {
      lhs += (i ? ", " : "") + QuoteIdentifier(columns[i]);
      rhs += (i ? ", " : "") + BindKeyPart(columns[i], texts[i]);
    }
    return "(" + lhs + ") > (" + rhs + ")";
  }

  Sql sql;

 private:
  const Statements& s_;
};

std::string QuoteTable(const TableName& table) {
  if (table.schema.empty()) return QuoteIdentifier(table.table);
  return QuoteIdentifier(table.schema) + "." + QuoteIdentifier(table.table);
}

std::string FromItem(const Source& source) {
  return source.table ? QuoteTable(*source.table) : "(" + source.query + ") AS src";
}

std::string Statements::SelectList() const {
  std::string out;
  for (const auto& c : catalog_.columns) out += (out.empty() ? "" : ", ") + QuoteIdentifier(c);
  return out;
}

std::string Statements::KeyList() const {
  std::string out;
  for (const auto& c : source_.key_columns) out += (out.empty() ? "" : ", ") + QuoteIdentifier(c);
  return out;
}

Sql Statements::ScanByKey(const std::optional<std::vector<std::string>>& after_key,
                          std::size_t limit) const {
  Builder b(*this);
  std::string where;
  for (const auto& c : source_.key_columns) {
    where += (where.empty() ? "" : " AND ") + QuoteIdentifier(c) + " IS NOT NULL";
  }
  if (after_key) where += " AND " + b.After(source_.key_columns, *after_key);
  b.sql.text = "SELECT " + SelectList() + " FROM " + From() + " WHERE " + where + " ORDER BY " +
               KeyList() + " LIMIT " + std::to_string(limit);
  return std::move(b.sql);
}

Sql Statements::ScanByUpdatedAt(const std::optional<std::string>& updated_at,
                                const std::optional<std::vector<std::string>>& key,
                                std::size_t limit) const {
  Builder b(*this);
  const std::string u = QuoteIdentifier(source_.updated_at);
  std::string where = u + " IS NOT NULL";
  for (const auto& c : source_.key_columns) where += " AND " + QuoteIdentifier(c) + " IS NOT NULL";
  if (updated_at && key) {
    std::vector<std::string> columns = {source_.updated_at};
    columns.insert(columns.end(), source_.key_columns.begin(), source_.key_columns.end());
    std::vector<std::string> texts = {*updated_at};
    texts.insert(texts.end(), key->begin(), key->end());
    where += " AND " + b.After(columns, texts);
  } else if (updated_at) {
    where += " AND " + u + " >= " + b.BindKeyPart(source_.updated_at, *updated_at);
  }
  b.sql.text = "SELECT " + SelectList() + " FROM " + From() + " WHERE " + where + " ORDER BY " + u +
               ", " + KeyList() + " LIMIT " + std::to_string(limit);
  return std::move(b.sql);
}

Sql Statements::NullKeys(std::size_t limit) const {
  std::string where;
  for (const auto& c : source_.key_columns) {
    where += (where.empty() ? "" : " OR ") + QuoteIdentifier(c) + " IS NULL";
  }
  return {"SELECT " + SelectList() + " FROM " + From() + " WHERE " + where + " LIMIT " +
              std::to_string(limit),
          {}};
}

Sql Statements::SelectByKey(const std::vector<std::string>& key) const {
  Builder b(*this);
  const std::string where = b.KeyEquals(key);
  b.sql.text = "SELECT " + SelectList() + " FROM " + From() + " WHERE " + where;
  return std::move(b.sql);
}

Sql Statements::LockByKey(const std::vector<std::string>& key) const {
  Sql sql = SelectByKey(key);
  if (std::string(driver_.type()) == "postgresql") sql.text += " FOR UPDATE";
  return sql;
}

Sql Statements::Upsert(const std::vector<std::string>& key, const mapping::Fields& fields) const {
  Builder b(*this);
  std::string columns, values, updates;
  for (size_t i = 0; i < key.size(); ++i) {
    const auto& column = source_.key_columns[i];
    columns += (i ? ", " : "") + QuoteIdentifier(column);
    values += (i ? ", " : "") + b.BindKeyPart(column, key[i]);
  }
  for (const auto& [name, value] : fields) {
    const std::string q = QuoteIdentifier(name);
    columns += ", " + q;
    values += ", " + b.Bind(ForColumn(value, catalog_.KindOf(name)));
    updates += (updates.empty() ? "" : ", ") + q + " = excluded." + q;
  }
  b.sql.text = "INSERT INTO " + From() + " (" + columns + ") VALUES (" + values +
               ") ON CONFLICT (" + KeyList() + ") DO " +
               (updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
  return std::move(b.sql);
}

Sql Statements::InsertReturningKey(const mapping::Fields& fields) const {
  Builder b(*this);
  std::string columns, values;
  for (const auto& [name, value] : fields) {
    columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(name);
    values += (values.empty() ? "" : ", ") + b.Bind(ForColumn(value, catalog_.KindOf(name)));
  }
  b.sql.text = "INSERT INTO " + From() +
               (fields.empty() ? " DEFAULT VALUES" : " (" + columns + ") VALUES (" + values + ")") +
               " RETURNING " + KeyList();
  return std::move(b.sql);
}

Sql Statements::Delete(const std::vector<std::string>& key) const {
  Builder b(*this);
  const std::string where = b.KeyEquals(key);
  b.sql.text = "DELETE FROM " + From() + " WHERE " + where;
  return std::move(b.sql);
}

Sql Statements::SoftDelete(const std::vector<std::string>& key) const {
  Builder b(*this);
  const Kind kind = catalog_.KindOf(source_.soft_delete);
  std::string flag;
  if (kind == Kind::kTimestamp) {
    flag = "CURRENT_TIMESTAMP";
  } else if (kind == Kind::kInteger || kind == Kind::kReal || kind == Kind::kNumeric) {
    flag = b.Bind(1.0);
  } else {
    flag = b.Bind(ForColumn(true, kind));
  }
  const std::string where = b.KeyEquals(key);
  b.sql.text = "UPDATE " + From() + " SET " + QuoteIdentifier(source_.soft_delete) + " = " + flag +
               " WHERE " + where;
  return std::move(b.sql);
}

}  // namespace ghl::connectors::sql
