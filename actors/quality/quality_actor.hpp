// The quality actor: the node's quality monitor and CSAT store (messages/quality.hpp). One per node, under
// a supervisor. Sessions offer it every completed turn (fire and forget); it samples `sample_rate` of the
// generated answers (not the session's own texts: handoff messages, refusals, agents' words)
// (quality::sampler), redacts the question and answer (safety's pii_scanner), scores the sample - by the
// judge chain when one is configured (an async completion_call with task judge, JSON mode, the rubric of
// judge_rubric.hpp), else, or when the judge fails, by the local groundedness check - and records the
// scores as metrics (sa_quality_*) and as a JSON line in <quality.dir>/<node>.samples.jsonl. The gateway
// sends it CSAT ratings and surveys, stored redacted in <quality.dir>/<node>.csat.jsonl (comments are never
// logged).
//
// Its files are opened and written on a blocking_lane (a thread of its own), never on a scheduler thread; a
// sample counts as scored, and a rating as stored, once its line is written. The judge's answer arrives as
// a message, so a slow judge never blocks it. It also counts the local provider's
// generation tokens (an estimate, 4 characters a token, at 0 USD) for sa_component_tokens_total.
// To add a score: the rubric or the local check, then record() here and the README's metric table.
#pragma once

#include "actors/quality/sampler.hpp"
#include "actors/safety/output_filter.hpp"
#include "config/config.hpp"
#include "messages/completion.hpp"
#include "messages/quality.hpp"

#include "caf/fwd.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace sa {

class blocking_lane;
class metrics;

struct quality_deps {
  quality::sampler sampler{0.05, 0};
  std::shared_ptr<const safety::pii_scanner> pii;  ///< required: nothing is stored unredacted
  std::shared_ptr<sa::metrics> metrics;            ///< optional
  completion_actor judge;                          ///< null: the local groundedness check
  std::string judge_name;                          ///< the judge's providers name (metric label)
  std::chrono::milliseconds judge_timeout{20000};
  std::string samples_path;                        ///< scored samples (JSON lines)
  std::string csat_path;                           ///< ratings and surveys (JSON lines)
  std::size_t max_records = 10000;                 ///< per file, before it rotates
  /// Where the files are written; null: a lane of each incarnation's own. The node passes one it also holds
  /// (and shares between incarnations), so the last writes are waited for on the main thread at shutdown.
  std::shared_ptr<blocking_lane> lane;
};

/// The deps `cfg.quality` describes. `judge` is the providers member named by quality.judge (null when
/// none is configured; the caller logs a configured judge it cannot find).
std::shared_ptr<const quality_deps> quality_deps_from(const config::config& cfg, std::shared_ptr<sa::metrics> metrics,
                                                      std::shared_ptr<const safety::pii_scanner> pii,
                                                      completion_actor judge);

/// The judge label of locally scored samples.
inline constexpr const char* local_judge_name = "local_groundedness";

/// Spawns the actor in `parent`'s context (a supervisor).
quality_actor spawn_quality(caf::local_actor* parent, std::shared_ptr<const quality_deps> deps);

/// The same, spawned by the system (tests).
quality_actor spawn_quality(caf::actor_system& sys, std::shared_ptr<const quality_deps> deps);

/// Tokens of a text by the usual estimate (4 characters a token, rounded up), for free local models.
uint64_t estimate_tokens(std::size_t chars) noexcept;

} // namespace sa
