// Sanitizer builds only (CIMSIM_SANITIZE with g++; docs/testing.md, "SystemC under ASan"): completes
// the AddressSanitizer stack-switch annotations of Debian's libsystemc 2.3.4, so that ASan always
// knows which stack the program runs on.
//
// SystemC runs each SC_THREAD on its own stack (QuickThreads coroutines). libsystemc 2.3.4 tells ASan
// about a switch through weak references to __sanitizer_start_switch_fiber and
// __sanitizer_finish_switch_fiber, which resolve to the ASan runtime when the program has one, but
//   1. a switch to the main stack (the scheduler, SC_METHODs, everything after sc_start) passes the
//      main coroutine's recorded stack, which is never set: bottom null, size 0; and
//   2. a thread that ends (its function returns) leaves through qt_abort with no annotation at all.
// ASan then believes the program still runs on an SC_THREAD's stack (or on none), and every exception
// thrown on the main stack afterwards prints "ASan is ignoring requested __asan_handle_no_return"
// and skips unpoisoning the stack it unwinds, after which false reports may follow.
//
// This file is compiled into every program that links the simulator (an interface source of
// cimsim_sim) so that its definitions come first in the dynamic symbol lookup: the one below of
// __sanitizer_start_switch_fiber gives the main stack's real bounds for case 1, then calls the ASan
// runtime's; the one of qt_abort announces the switch of case 2 to the stack it resumes (found among
// the stacks announced so far) and finishes it on arrival, then calls libsystemc's qt_abort. Nothing
// else changes: the switches themselves are libsystemc's.
#if defined(__SANITIZE_ADDRESS__)

#include <dlfcn.h>
#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace {

using StartSwitch = void (*)(void**, const void*, std::size_t);
using FinishSwitch = void (*)(void*, const void**, std::size_t*);
using Helper = void* (*)(void*, void*, void*);
using Abort = void (*)(Helper, void*, void*, void*);

template <typename F>
F next_definition(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "asan_systemc_fibers: %s not found after this program\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

struct Stack {
  const void* bottom = nullptr;
  std::size_t size = 0;
};

// The main thread's stack, as ASan itself sees it at start-up.
Stack main_stack() {
  static const Stack stack = [] {
    Stack s;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* bottom = nullptr;
      pthread_attr_getstack(&attr, &bottom, &s.size);
      s.bottom = bottom;
      pthread_attr_destroy(&attr);
    }
    return s;
  }();
  return stack;
}
// Computed before main() (on the main thread), not on a coroutine's first switch.
[[maybe_unused]] const Stack kMainStackAtStartUp = main_stack();

// Every coroutine stack announced so far: bottom -> size (SystemC's scheduler enters each new
// SC_THREAD with a yield, announced, before the thread can be resumed by another's qt_abort).
std::map<std::uintptr_t, std::size_t>& coroutine_stacks() {
  static std::map<std::uintptr_t, std::size_t> stacks;
  return stacks;
}

Stack stack_holding(const void* sp) {
  const auto at = reinterpret_cast<std::uintptr_t>(sp);
  const Stack m = main_stack();
  const auto main_bottom = reinterpret_cast<std::uintptr_t>(m.bottom);
  if (at >= main_bottom && at < main_bottom + m.size) return m;
  auto& stacks = coroutine_stacks();
  auto it = stacks.upper_bound(at);
  if (it != stacks.begin() && at < (--it)->first + it->second)
    return {reinterpret_cast<const void*>(it->first), it->second};
  return {};
}

Helper abort_helper = nullptr;

// Runs on the resumed stack, right after qt_abort's switch: completes the announced switch.
__attribute__((no_sanitize("address"))) void* finish_abort(void* old_sp, void* a0, void* a1) {
  static const FinishSwitch finish = next_definition<FinishSwitch>("__sanitizer_finish_switch_fiber");
  finish(nullptr, nullptr, nullptr);
  return abort_helper(old_sp, a0, a1);
}

}  // namespace

extern "C" {

__attribute__((no_sanitize("address"))) void __sanitizer_start_switch_fiber(void** fake_stack_save,
                                                                             const void* bottom,
                                                                             std::size_t size) {
  static const StartSwitch start = next_definition<StartSwitch>("__sanitizer_start_switch_fiber");
  if (bottom == nullptr && size == 0) {
    const Stack m = main_stack();  // libsystemc's main coroutine
    bottom = m.bottom;
    size = m.size;
  } else if (bottom != nullptr) {
    coroutine_stacks()[reinterpret_cast<std::uintptr_t>(bottom)] = size;
  }
  start(fake_stack_save, bottom, size);
}

__attribute__((no_sanitize("address"))) void qt_abort(Helper helper, void* a0, void* a1, void* new_sp) {
  static const Abort real = next_definition<Abort>("qt_abort");
  static const StartSwitch start = next_definition<StartSwitch>("__sanitizer_start_switch_fiber");
  const Stack to = stack_holding(new_sp);
  if (to.bottom == nullptr) {
    real(helper, a0, a1, new_sp);  // an unknown stack: leave the switch unannounced
    return;
  }
  abort_helper = helper;
  start(nullptr, to.bottom, to.size);  // null: the ending thread's fake frames go with it
  real(&finish_abort, a0, a1, new_sp);
}

}  // extern "C"

#endif  // __SANITIZE_ADDRESS__
