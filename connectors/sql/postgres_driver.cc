#include "connectors/sql/postgres_driver.h"

#include <libpq-fe.h>

#include <map>

#include "connectors/sql/statements.h"
#include "connectors/sql/values.h"

namespace ghl::connectors::sql {
namespace {

// Type OIDs (pg_type.h; stable across versions).
enum Oid : unsigned {
  kBoolOid = 16,
  kNameOid = 19,
  kInt8Oid = 20,
  kInt2Oid = 21,
  kInt4Oid = 23,
  kTextOid = 25,
  kOidOid = 26,
  kJsonOid = 114,
  kFloat4Oid = 700,
  kFloat8Oid = 701,
  kBpcharOid = 1042,
  kVarcharOid = 1043,
  kDateOid = 1082,
  kTimestampOid = 1114,
  kTimestamptzOid = 1184,
  kNumericOid = 1700,
  kJsonbOid = 3802,
};

Kind KindOf(unsigned oid) {
  switch (oid) {
    case kBoolOid:
      return Kind::kBool;
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      return Kind::kInteger;
    case kFloat4Oid:
    case kFloat8Oid:
      return Kind::kReal;
    case kNumericOid:
      return Kind::kNumeric;
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
      return Kind::kText;
    case kJsonOid:
    case kJsonbOid:
      return Kind::kJson;
    case kDateOid:
    case kTimestampOid:
    case kTimestamptzOid:
      return Kind::kTimestamp;
    default:
      return Kind::kOther;
  }
}

// "2024-05-01 10:00:00.25+00" -> "2024-05-01T10:00:00.25Z"; "+05:30" and "+02" keep their
// offset ("+02:00").
std::string IsoTimestamp(std::string text) {
  if (text.size() >= 19 && text[10] == ' ') text[10] = 'T';
  if (text.size() < 22) return text;
  const size_t sign = text.find_last_of("+-");
  if (sign < 19) return text;
  const std::string offset = text.substr(sign);
  if (offset == "+00" || offset == "+00:00") return text.substr(0, sign) + "Z";
  if (offset.size() == 3) return text + ":00";
  return text;
}

Value Cell(const char* text, int length, unsigned oid) {
  const std::string_view s(text, static_cast<size_t>(length));
  switch (KindOf(oid)) {
    case Kind::kBool:
      return s == "t";
    case Kind::kInteger:
    case Kind::kReal:
    case Kind::kNumeric:
      return NumberOrText(s);
    case Kind::kTimestamp:
      return IsoTimestamp(std::string(s));
    default:
      return std::string(s);
  }
}

bool RetryableState(const std::string& state) {
  static const char* const kStates[] = {"40001", "40P01", "55P03", "57014",
                                        "57P01", "57P02", "57P03"};
  if (state.rfind("08", 0) == 0 || state.rfind("53", 0) == 0) return true;
  for (const char* s : kStates) {
    if (state == s) return true;
  }
  return false;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void IgnoreNotice(void*, const char*) {}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

class PostgresDriver : public Driver {
 public:
  PostgresDriver(Secret dsn, std::chrono::milliseconds connect_timeout,
                 std::chrono::milliseconds statement_timeout)
      : dsn_(std::move(dsn)),
        where_(PostgresWhere(dsn_.Reveal())),
        connect_timeout_s_(
            std::to_string(std::max<int64_t>(1, (connect_timeout.count() + 999) / 1000))),
        statement_timeout_ms_(statement_timeout.count()) {}
  ~PostgresDriver() override { Drop(); }

  const char* type() const override { return "postgresql"; }
  std::string Where() const override { return where_; }
  std::string Placeholder(int index) const override { return "$" + std::to_string(index); }
  bool LastErrorRetryable() const override { return retryable_; }
  std::uint64_t reconnects() const override { return opened_ > 1 ? opened_ - 1 : 0; }

  Result<void> Connect() override {
    if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return Ok();
    Drop();
    // Later keywords override the ones in the dsn: the configured timeout wins, the
    // user's application_name does not.
    const char* keywords[] = {"application_name", "dbname", "connect_timeout", nullptr};
    const char* values[] = {"ghl-syncd", dsn_.Reveal().c_str(), connect_timeout_s_.c_str(),
                            nullptr};
    conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = conn_ ? Trim(PQerrorMessage(conn_)) : "out of memory";
      Drop();
      retryable_ = true;
      return Error{"cannot connect to " + where_ + ": " + message};
    }
    PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
    ++opened_;
    const std::string setup =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
        "SET statement_timeout = " +
        std::to_string(statement_timeout_ms_);
    ResultPtr res(PQexec(conn_, setup.c_str()), &PQclear);
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return Failed(res.get());
    retryable_ = false;
    return Ok();
  }

  Result<ResultSet> Run(const std::string& sql, const std::vector<Value>& params) override {
    if (conn_ == nullptr) {
      retryable_ = true;
      return Error{"not connected to " + where_};
    }
    std::vector<std::string> texts;
    std::vector<const char*> values;
    texts.reserve(params.size());
    for (const auto& p : params) texts.push_back(ValueText(p));
    for (size_t i = 0; i < params.size(); ++i) {
      values.push_back(mapping::IsNull(params[i]) ? nullptr : texts[i].c_str());
    }
    ResultPtr res(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), nullptr, nullptr, 0),
                  &PQclear);
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return Failed(res.get());
    retryable_ = false;
    return Read(res.get());
  }

  Result<void> Begin() override {
    auto r = Run("BEGIN", {});
    if (!r) return r.error();
    return Ok();
  }

  Result<std::vector<std::vector<std::string>>> UniqueKeys(const TableName& table) override {
    auto rs =
        Run("SELECT i.indexrelid::text, a.attname::text FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL "
            "AND i.indexprs IS NULL ORDER BY 1",
            {QuoteTable(table)});
    if (!rs) return rs.error();
    std::map<std::string, std::vector<std::string>> by_index;
    for (const auto& row : rs->rows) by_index[ValueText(row[0])].push_back(ValueText(row[1]));
    std::vector<std::vector<std::string>> keys;
    for (auto& [index, columns] : by_index) keys.push_back(std::move(columns));
    return keys;
  }

 private:
  static ResultSet Read(const PGresult* res) {
    ResultSet rs;
    const int columns = PQnfields(res);
    std::vector<unsigned> oids;
    for (int c = 0; c < columns; ++c) {
      rs.names.emplace_back(PQfname(res, c));
      oids.push_back(PQftype(res, c));
      rs.kinds.push_back(KindOf(oids.back()));
    }
    const int rows = PQntuples(res);
    rs.rows.reserve(static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<Value> row;
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::monostate{});
        } else {
          row.push_back(Cell(PQgetvalue(res, r, c), PQgetlength(res, r, c), oids[c]));
        }
      }
      rs.rows.push_back(std::move(row));
    }
    return rs;
  }

  Error Failed(const PGresult* res) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = Trim(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
    if (message.empty()) message = Trim(PQerrorMessage(conn_));
    const bool lost = PQstatus(conn_) != CONNECTION_OK;
    retryable_ = lost || state == nullptr || RetryableState(state);
    if (lost) {
      Drop();
      message += " (connection lost; reconnecting on the next call)";
    }
    return Error{where_ + ": " + message};
  }

  void Drop() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  Secret dsn_;
  std::string where_;
  std::string connect_timeout_s_;
  int64_t statement_timeout_ms_;
  PGconn* conn_ = nullptr;
  std::uint64_t opened_ = 0;
  bool retryable_ = false;
};

}  // namespace

std::string PostgresWhere(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  PQfreemem(error);
  if (options == nullptr) return "(invalid dsn)";
  std::map<std::string, std::string> found;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) found[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  std::string where = found.count("dbname") ? found["dbname"] : "(default db)";
  if (found.count("host")) where += "@" + found["host"];
  if (found.count("port")) where += ":" + found["port"];
  return where;
}

std::unique_ptr<Driver> MakePostgresDriver(Secret dsn, std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds statement_timeout) {
  return std::make_unique<PostgresDriver>(std::move(dsn), connect_timeout, statement_timeout);
}

}  // namespace ghl::connectors::sql
