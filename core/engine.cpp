#include "core/engine.h"

namespace uptrace::core {

Engine::Engine(const arch::Isa& isa_, TraceOptions options_, HitSink& sink)
    : isa(isa_),
      options(std::move(options_)),
      control(isa_, step_mechanism_for(isa_)),
      reporter(isa_, sink, options.max_hits, options.stack),
      jump(session, control, reporter, options.follow_forks),
      stepper(control),
      returns(isa_),
      lineage(session, control, stepper, jump, returns, options.follow_forks, options.status),
      arming(session, control, jump, reporter, PlanRequest{options.mode, control.step_mechanism()}, options.stack),
      loader(session, control, arming, options.status) {}

}  // namespace uptrace::core
