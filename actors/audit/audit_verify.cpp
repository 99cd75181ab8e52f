#include "actors/audit/audit_verify.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sa::audit {

const char* to_string(break_kind k) noexcept {
  switch (k) {
    case break_kind::malformed: return "malformed";
    case break_kind::edited: return "edited content";
    case break_kind::missing: return "missing record";
    case break_kind::reordered: return "reordered";
    case break_kind::broken_prev: return "broken prev link";
    case break_kind::truncated: return "truncated";
    case break_kind::head_mismatch: return "head mismatch";
  }
  return "malformed";
}

namespace {

std::string seq_range(uint64_t from, uint64_t to) {
  return from == to ? "seq " + std::to_string(from) + " is" : "seq " + std::to_string(from) + ".." + std::to_string(to) + " are";
}

} // namespace

chain_verifier::chain_verifier(std::string unit, std::string tenant, std::optional<chain_head> head)
  : unit_(std::move(unit)), tenant_(std::move(tenant)), head_(std::move(head)) {
  report_.unit = unit_;
}

void chain_verifier::fail(break_kind k, uint64_t seq, uint64_t position, std::string message) {
  if (report_.broken)
    return;
  report_.broken = chain_break{k, seq, position, std::move(message)};
}

bool chain_verifier::push(std::string_view line, uint64_t position) {
  if (report_.broken || gap_)
    return false;
  record rec;
  std::string why;
  if (!parse_json_line(line, rec, &why)) {
    fail(break_kind::malformed, 0, position, "not an audit record: " + why);
    return false;
  }
  if (compute_hash(rec) != rec.hash) {
    fail(break_kind::edited, rec.seq, position,
         "the record's fields do not match its hash (a field was changed after it was written)");
    return false;
  }
  if (!started_) {
    if (rec.seq != 1) {
      fail(break_kind::missing, rec.seq, position,
           "the chain starts at seq " + std::to_string(rec.seq) + ": " + seq_range(1, rec.seq - 1)
             + " absent (the start of the chain was removed or lost)");
      return false;
    }
    if (rec.prev != genesis_hash) {
      fail(break_kind::broken_prev, rec.seq, position,
           "the first record's prev is not the genesis hash (64 zeros): records before it were removed");
      return false;
    }
  } else if (rec.seq > expected_) {
    gap_ = gap{expected_, rec.seq, position};
    return false;
  } else if (rec.seq < expected_) {
    fail(break_kind::reordered, rec.seq, position,
         "seq " + std::to_string(rec.seq) + " comes after seq " + std::to_string(expected_ - 1) + " (" + unit_ + " "
           + std::to_string(prev_position_) + "): records were moved or repeated");
    return false;
  } else if (rec.prev != prev_hash_) {
    fail(break_kind::broken_prev, rec.seq, position,
         "prev is not the hash of seq " + std::to_string(rec.seq - 1) + " (" + unit_ + " "
           + std::to_string(prev_position_) + "): that record was rewritten with a recomputed hash, or replaced");
    return false;
  }
  started_ = true;
  ++report_.records;
  if (!tenant_.empty() && rec.tenant == tenant_)
    ++report_.tenant_records;
  if (report_.first_seq == 0)
    report_.first_seq = rec.seq;
  report_.last_seq = rec.seq;
  report_.last_hash = rec.hash;
  if (head_ && rec.seq == head_->seq)
    at_head_hash_ = rec.hash;
  prev_hash_ = std::move(rec.hash);
  prev_position_ = position;
  expected_ = rec.seq + 1;
  return true;
}

bool chain_verifier::lookahead(std::string_view line, uint64_t position) {
  if (!gap_)
    return false;
  record rec;
  if (!parse_json_line(line, rec, nullptr) || rec.seq != gap_->expected)
    return true;
  auto g = *gap_;
  gap_.reset();
  fail(break_kind::reordered, g.found, g.position,
       "seq " + std::to_string(g.found) + " comes where seq " + std::to_string(g.expected) + " was expected; seq "
         + std::to_string(g.expected) + " is later, at " + unit_ + " " + std::to_string(position)
         + ": records were moved");
  return false;
}

verify_report chain_verifier::finish() {
  if (gap_) {
    auto g = *gap_;
    gap_.reset();
    fail(break_kind::missing, g.found, g.position,
         "seq " + std::to_string(g.expected) + " was expected after seq " + std::to_string(g.expected - 1) + " ("
           + unit_ + " " + std::to_string(prev_position_) + "), found seq " + std::to_string(g.found) + ": "
           + seq_range(g.expected, g.found - 1) + " absent (removed)");
  }
  if (!report_.broken && head_) {
    report_.head_checked = true;
    if (report_.last_seq < head_->seq) {
      fail(break_kind::truncated, report_.last_seq, 0,
           "the head says the chain reaches seq " + std::to_string(head_->seq) + " but "
             + (report_.last_seq == 0 ? std::string{"there are no records"}
                                      : "the last record is seq " + std::to_string(report_.last_seq) + " (" + unit_
                                          + " " + std::to_string(prev_position_) + ")")
             + ": records at the end were removed");
    } else if (head_->seq > 0 && at_head_hash_ != head_->hash) {
      fail(break_kind::head_mismatch, head_->seq, 0,
           "seq " + std::to_string(head_->seq) + " hashes to " + at_head_hash_ + " but the head says "
             + head_->hash + ": the chain up to there was rewritten with recomputed hashes, or the head was edited");
    }
  }
  return report_;
}

std::string head_path(const std::string& audit_path) {
  return audit_path + ".head";
}

bool parse_head(std::string_view text, chain_head& out, std::string* why) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  auto fail = [why](const char* w) {
    if (why)
      *why = w;
    return false;
  };
  if (j.is_discarded() || !j.is_object())
    return fail("not a JSON object");
  if (!j.contains("seq") || !j["seq"].is_number_unsigned())
    return fail("field \"seq\" must be a whole number");
  if (!j.contains("hash") || !j["hash"].is_string() || !is_hash(j["hash"].get<std::string>()))
    return fail("field \"hash\" must be 64 lower-case hex digits");
  out.seq = j["seq"].get<uint64_t>();
  out.hash = j["hash"].get<std::string>();
  return true;
}

std::string format_head(const chain_head& h) {
  std::string s = "{\"seq\":" + std::to_string(h.seq) + ",\"hash\":\"" + h.hash + "\"}";
  if (s.size() < head_bytes - 1)
    s.append(head_bytes - 1 - s.size(), ' ');
  s += '\n';
  return s;
}

verify_report verify_file(const std::string& path, const std::string& tenant) {
  std::optional<chain_head> head;
  {
    std::ifstream h(head_path(path), std::ios::binary);
    std::stringstream text;
    if (h)
      text << h.rdbuf();
    // An empty head: the store has opened the file but not finished its first fdatasync yet.
    if (text.str().find_first_not_of(" \n") != std::string::npos) {
      chain_head parsed;
      std::string why;
      if (!parse_head(text.str(), parsed, &why)) {
        verify_report r;
        r.broken = chain_break{break_kind::malformed, 0, 0, "head file " + head_path(path) + ": " + why};
        return r;
      }
      head = parsed;
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    verify_report r;
    r.broken = chain_break{break_kind::malformed, 0, 0, "cannot read " + path + ": " + std::strerror(errno)};
    return r;
  }
  chain_verifier v{"line", tenant, head};
  std::string line;
  uint64_t n = 0;
  bool feeding = true;
  while (std::getline(in, line)) {
    ++n;
    if (in.eof() && !line.empty()) {  // the last line has no newline: a write that did not finish
      if (feeding) {
        verify_report r = v.finish();
        if (!r.broken)
          r.broken = chain_break{break_kind::malformed, 0, n,
                                 "the last line is not terminated by a newline (a partial write)"};
        return r;
      }
    }
    if (feeding) {
      feeding = v.push(line, n);
      if (!feeding && !v.wants_more())
        break;
    } else if (!v.lookahead(line, n)) {
      break;
    }
  }
  return v.finish();
}

std::string render(const verify_report& r, const std::string& source, const std::string& tenant) {
  std::ostringstream out;
  if (r.ok()) {
    out << source << ": chain intact: " << r.records << " records checked";
    if (r.records > 0)
      out << ", seq " << r.first_seq << ".." << r.last_seq;
    out << "\n";
    if (r.records > 0)
      out << "last record: seq " << r.last_seq << " hash " << r.last_hash << "\n";
    out << (r.head_checked ? "head: matches the last record written" : "head: none kept, so removal of the last "
                                                                       "records cannot be detected")
        << "\n";
  } else {
    const auto& b = *r.broken;
    out << source << ": chain BROKEN: " << r.records << " records checked before the first broken link\n";
    out << "first broken link: ";
    if (b.position > 0)
      out << r.unit << " " << b.position << ", ";
    else
      out << "end of chain, ";
    if (b.seq > 0)
      out << "seq " << b.seq << ", ";
    out << to_string(b.kind) << ": " << b.message << "\n";
  }
  if (!tenant.empty())
    out << "tenant " << tenant << ": " << r.tenant_records << " records in the checked part of the chain\n";
  return out.str();
}

} // namespace sa::audit
