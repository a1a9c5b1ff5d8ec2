/* wssaudiochunk-join: see session-join.h. */
#include "session-join.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <numeric>
#include <set>
#include <sstream>

namespace wssac_join
{

namespace
{

bool
parse_u64 (const std::string &s, uint64_t &out)
{
  if (s.empty () || s.size () > 20 || s.find_first_not_of ("0123456789") != std::string::npos)
    return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull (s.c_str (), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  out = v;
  return true;
}

bool
parse_line (const std::string &line, Record &r)
{
  std::istringstream in (line);
  std::vector<std::string> f;
  for (std::string w; in >> w;)
    f.push_back (w);
  uint64_t index = 0;
  if (f.size () == 4 && f[0] == "H")
    {
      r.header = true;
      r.stream = f[3];
      return parse_u64 (f[1], r.offset) && parse_u64 (f[2], r.length);
    }
  if (f.size () == 5 && f[0] == "C" && parse_u64 (f[1], index) && index <= INT64_MAX)
    {
      r.header = false;
      r.index = static_cast<int64_t> (index);
      r.stream = f[4];
      return parse_u64 (f[2], r.offset) && parse_u64 (f[3], r.length);
    }
  return false;
}

/* Orders the streams so that each part's own order holds (a stream a part
 * saw first comes first), ties going to the stream seen in the earliest
 * part. A contradiction (two parts disagree) falls back to that tie rule. */
std::vector<std::string>
order_streams (const std::vector<Part> &parts, const std::vector<PartReport> &reports,
               const std::vector<size_t> &by_age)
{
  std::map<std::string, size_t> rank; /* first appearance, parts taken by age */
  for (size_t p : by_age)
    for (const std::string &s : reports[p].streams)
      rank.emplace (s, rank.size ());
  std::map<std::string, std::set<std::string>> after; /* s -> streams that must follow */
  std::map<std::string, size_t> preds;
  for (const auto &kv : rank)
    preds[kv.first] = 0;
  for (size_t p = 0; p < parts.size (); p++)
    {
      const auto &seq = reports[p].streams;
      for (size_t i = 1; i < seq.size (); i++)
        if (after[seq[i - 1]].insert (seq[i]).second)
          preds[seq[i]]++;
    }
  std::vector<std::string> out;
  std::set<std::string> done;
  while (out.size () < rank.size ())
    {
      std::string pick;
      size_t best = SIZE_MAX;
      for (const auto &kv : rank)
        if (!done.count (kv.first) && preds[kv.first] == 0 && kv.second < best)
          {
            best = kv.second;
            pick = kv.first;
          }
      if (best == SIZE_MAX) /* a cycle: take the earliest seen */
        for (const auto &kv : rank)
          if (!done.count (kv.first) && kv.second < best)
            {
              best = kv.second;
              pick = kv.first;
            }
      done.insert (pick);
      out.push_back (pick);
      for (const std::string &next : after[pick])
        if (preds[next] > 0)
          preds[next]--;
    }
  return out;
}

} // namespace

ParseResult
parse_chunk_index (const std::string &text)
{
  ParseResult res;
  size_t pos = 0;
  while (pos < text.size ())
    {
      size_t nl = text.find ('\n', pos);
      if (nl == std::string::npos)
        {
          /* The process died while appending this line: it names bytes that
           * may not all be there, so it is not trusted. */
          res.torn_tail = true;
          break;
        }
      std::string line = text.substr (pos, nl - pos);
      pos = nl + 1;
      if (line.empty ())
        continue;
      Record r;
      if (parse_line (line, r))
        res.records.push_back (r);
      else
        res.malformed++;
    }
  return res;
}

SessionPlan
plan_session (const std::vector<Part> &parts)
{
  SessionPlan plan;
  plan.parts.resize (parts.size ());
  std::vector<size_t> by_age (parts.size ());
  std::iota (by_age.begin (), by_age.end (), 0);
  std::stable_sort (by_age.begin (), by_age.end (),
                    [&] (size_t a, size_t b) { return parts[a].order_hint < parts[b].order_hint; });

  std::map<std::string, StreamPlan> streams;
  for (size_t p : by_age)
    {
      PartReport &rep = plan.parts[p];
      for (const Record &r : parts[p].records)
        {
          if (r.offset > parts[p].media_bytes || r.length > parts[p].media_bytes - r.offset)
            {
              rep.beyond_media++;
              continue;
            }
          if (std::find (rep.streams.begin (), rep.streams.end (), r.stream) == rep.streams.end ())
            rep.streams.push_back (r.stream);
          StreamPlan &sp = streams[r.stream];
          sp.stream_id = r.stream;
          Piece piece{ p, r.offset, r.length };
          if (r.header)
            {
              if (!sp.has_header)
                {
                  sp.has_header = true;
                  sp.header = piece;
                }
              continue;
            }
          rep.chunks++;
          if (rep.first_index < 0 || r.index < rep.first_index)
            rep.first_index = r.index;
          rep.last_index = std::max (rep.last_index, r.index);
          auto ins = sp.chunks.emplace (r.index, piece);
          if (ins.second)
            rep.used++;
          else
            {
              rep.overlapping++;
              plan.overlaps.push_back (Overlap{ r.stream, r.index, ins.first->second, piece });
            }
        }
    }

  for (const std::string &id : order_streams (parts, plan.parts, by_age))
    {
      StreamPlan &sp = streams[id];
      const bool has_first = sp.chunks.count (0) > 0;
      sp.use_header = sp.has_header && !has_first;
      sp.decodable = has_first || sp.has_header;
      int64_t expect = 0; /* a stream's chunkIndex starts at 0 */
      for (const auto &kv : sp.chunks)
        {
          if (kv.first > expect)
            sp.gaps.emplace_back (expect, kv.first - 1);
          expect = kv.first + 1;
        }
      plan.streams.push_back (std::move (sp));
    }
  return plan;
}

} // namespace wssac_join
