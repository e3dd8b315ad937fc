#include "arch/x86_64/jump.h"

#include <algorithm>
#include <variant>

#include <fmt/format.h>

#include "arch/x86_64/boost.h"
#include "arch/x86_64/decoder.h"
#include "arch/x86_64/insn_table.h"
#include "arch/x86_64/jump_filter.h"
#include "arch/x86_64/jump_frame.h"
#include "arch/x86_64/jump_relay.h"
#include "arch/x86_64/jump_targets.h"
#include "arch/x86_64/registers.h"
#include "arch/x86_64/relocate.h"
#include "common/ring_layout.h"

namespace uptrace::arch::x86_64 {
namespace {

constexpr size_t kJmpRel32Length = 5;
constexpr size_t kJmpRel8Length = 2;
constexpr size_t kMaxInsnLength = 15;
// Record indexes are masked and scaled in 32-bit registers.
constexpr uint64_t kMaxCapacity = uint64_t{1} << (32 - ring::kRecordShift);

// mov [rcx + disp8], rN (REX.W 89 /r, ModRM.reg the source).
void store_reg(Code& c, unsigned n, uint8_t disp) {
  c.put({static_cast<uint8_t>(0x48 | (n >= 8 ? 0x04 : 0x00)), 0x89, static_cast<uint8_t>(0x41 | ((n & 7) << 3)), disp});
}

constexpr uint32_t kGettid = 186;  // x86-64's SYS_gettid

// Stores the register word's value at the site to [rcx + disp]: straight
// from the register when the trampoline leaves it alone, else through rax.
// False for words that are not general-purpose registers or rip.
bool store_word(Code& c, uint16_t word, uint8_t disp, uint64_t site) {
  if (word != kRax && word != kRcx && word != kRdx && word != kRsi && word != kRsp) {
    for (unsigned n = 0; n < 16; ++n) {
      if (gpr_word(n) != word) continue;
      store_reg(c, n, disp);  // rbx, rbp, rdi, r8-r15: untouched by the trampoline
      return true;
    }
  }
  if (!load_site_word(c, word, site)) return false;
  store_reg(c, kRaxNumber, disp);
  return true;
}

static_assert(ring::kTailOffset < 128, "the tail is addressed with a disp8");
static_assert(ring::kRecordOffsetCount == ring::kRecordOffsetProbe + 4, "probe and count are stored as one word");

// Writes one record for `spec`; rsi, rax, rcx, rdx and the flags are free.
// The address of its ring-full trap is added to `full_traps`, the address
// right after its syscall to `syscall_ends`.
bool emit_record(Code& c, const JumpContext& jump, const JumpRecordSpec& spec, uint64_t site,
                 std::vector<uint64_t>& full_traps, std::vector<uint64_t>& syscall_ends, std::string& why_not) {
  if (spec.words.size() > ring::kMaxValues) {
    why_not = fmt::format("a probe records at most {} values in jump mode, not {}", ring::kMaxValues, spec.words.size());
    return false;
  }
  c.put({0x48, 0xbe});  // movabs rsi, ring
  c.put_le<uint64_t>(jump.ring.value);
  // Reserve the record at head only while head - tail < capacity. Tail is
  // read before head (x86-64 keeps loads in order), so head - tail never
  // goes below zero: a head read first could be overtaken by the reader's
  // tail and the difference wrap to a huge "full".
  const size_t retry = c.size();
  c.put({0x48, 0x8b, 0x56, static_cast<uint8_t>(ring::kTailOffset)});  // mov rdx, [rsi + tail]
  c.put({0x48, 0x8b, 0x06});                                             // mov rax, [rsi]  (head)
  c.put({0x48, 0x89, 0xc1});                                             // mov rcx, rax
  c.put({0x48, 0x29, 0xd1});                                             // sub rcx, rdx
  c.put({0x48, 0x81, 0xf9});                                             // cmp rcx, capacity
  c.put_le<uint32_t>(static_cast<uint32_t>(jump.capacity));
  const size_t to_full = c.jump_rel32({0x0f, 0x83});  // jae full
  c.put({0x48, 0x8d, 0x50, 0x01});                    // lea rdx, [rax + 1]  (the commit word)
  c.put({0xf0, 0x48, 0x0f, 0xb1, 0x16});              // lock cmpxchg [rsi], rdx
  c.jump_back_to(retry, {0x0f, 0x85});                // jne retry
  c.put({0x25});                                      // and eax, capacity - 1
  c.put_le<uint32_t>(static_cast<uint32_t>(jump.capacity - 1));
  c.put({0xc1, 0xe0, ring::kRecordShift});  // shl eax, 6
  c.put({0x48, 0x8d, 0x8c, 0x06});          // lea rcx, [rsi + rax + records]
  c.put_le<uint32_t>(static_cast<uint32_t>(ring::kRecordsOffset));
  // The thread's name as uptrace says (ring::ThreadIdMode): none yet (fs:[0]
  // with no fs base would fault), glibc's self pointer at fs:[0], or the
  // kernel's thread id, tagged, where fs:0 holds something else: uptrace
  // switches the ring to that once it sees such a thread, and a thread
  // whose fs:0 is 0 (Go's) asks the kernel at once.
  c.put({0x31, 0xc0});  // xor eax, eax
  c.put({0x48, 0x83, 0xbe});
  c.put_le<uint32_t>(static_cast<uint32_t>(ring::kThreadIdsOffset));
  c.put({static_cast<uint8_t>(ring::kSelfPointer)});              // cmp qword [rsi + ids], 1
  const size_t no_ids = c.jump_rel32({0x0f, 0x82});                // jb store
  const size_t kernel_tid = c.jump_rel32({0x0f, 0x87});            // ja kernel_tid
  c.put({0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00});  // mov rax, fs:[0]
  c.put({0x48, 0x85, 0xc0});                                      // test rax, rax
  const size_t have_id = c.jump_rel32({0x0f, 0x85});               // jnz store
  c.bind(kernel_tid);
  c.put({0x51, 0x41, 0x53});                                      // push rcx; push r11 (syscall clobbers them)
  c.put({0xb8});
  c.put_le<uint32_t>(kGettid);                                    // mov eax, SYS_gettid
  c.put({0x0f, 0x05});                                            // syscall
  syscall_ends.push_back(c.here());
  c.put({0x41, 0x5b, 0x59});                                      // pop r11; pop rcx
  c.put({0x48, 0x0f, 0xba, 0xe8, 0x3f});                          // bts rax, 63  (ring::kTidTag)
  c.bind(no_ids);
  c.bind(have_id);
  store_reg(c, kRaxNumber, ring::kRecordOffsetThread);            // mov [rcx + thread], rax
  c.put({0x48, 0x89, 0xd6});                                      // mov rsi, rdx  (the commit word)
  // The cycle counter after the reservation: a lock cmpxchg runs only once
  // it is the oldest instruction, so an rdtsc before it would have to finish
  // first; after it, the two overlap.
  c.put({0x0f, 0x31});                                // rdtsc
  c.put({0x48, 0xc1, 0xe2, 0x20});                    // shl rdx, 32
  c.put({0x48, 0x09, 0xd0});                          // or rax, rdx
  store_reg(c, kRaxNumber, ring::kRecordOffsetTime);  // mov [rcx + time], rax
  c.put({0x48, 0xb8});                                // movabs rax, probe | count << 32
  c.put_le<uint64_t>(spec.probe | (static_cast<uint64_t>(spec.words.size()) << 32));
  store_reg(c, kRaxNumber, ring::kRecordOffsetProbe);  // mov [rcx + probe], rax
  for (size_t i = 0; i < spec.words.size(); ++i) {
    if (!store_word(c, spec.words[i], static_cast<uint8_t>(ring::kRecordOffsetValues + 8 * i), site)) {
      why_not = "a fetch argument names a register a trampoline cannot record";
      return false;
    }
  }
  c.put({0x48, 0x89, 0x31});  // mov [rcx], rsi: published
  const size_t to_done = c.jump_rel32({0xe9});
  // A full ring never drops the hit: the trap stops the thread until
  // uptrace has drained the ring, then it tries again.
  c.bind(to_full);
  full_traps.push_back(c.here());
  c.put({0xcc});                  // int3
  c.jump_back_to(retry, {0xe9});  // jmp retry
  c.bind(to_done);
  return true;
}

// What may be displaced, by class. A relative branch is retargeted from
// the trampoline with its rel32 form; a call pushes the original return
// address and jumps, so its callee returns to the code after the window.
// Loop/jrcxz have only rel8 forms, and the rest need a stop.
bool displaceable(InsnClass cls) {
  switch (cls) {
    case InsnClass::Plain:
    case InsnClass::Nop:
    case InsnClass::Endbr:
    case InsnClass::PushReg:
    case InsnClass::PushImm:
    case InsnClass::LeaRip:
    case InsnClass::Ret:
    case InsnClass::JmpIndirect:
    case InsnClass::JmpRel:
    case InsnClass::Jcc:
    case InsnClass::CallRel: return true;
    default: return false;
  }
}

// The thread does not come back to the instruction after it: after a call
// it does, but to the end of the window (a call rel32 is 5 bytes, so it is
// always the window's last).
bool ends_flow(InsnClass cls) {
  return cls == InsnClass::Ret || cls == InsnClass::JmpIndirect || cls == InsnClass::JmpRel ||
         cls == InsnClass::CallRel;
}

// Whether the first `need` bytes of `after` are padding instructions (int3,
// or nops), each whole within `after`; the last may run on past `need`.
bool is_padding(const Decoder& decoder, std::span<const uint8_t> after, size_t need, uint64_t at) {
  size_t covered = 0;
  while (covered < need) {
    if (covered >= after.size()) return false;
    if (after[covered] == 0xcc) {
      ++covered;
      continue;
    }
    auto code = after.subspan(covered);
    auto d = decoder.decode_one(code.first(std::min(code.size(), kMaxInsnLength)), RuntimeAddr(at + covered));
    if (!d) return false;
    const InsnRow* row = classify(d->enc, d->insn.code());
    if (!row || row->cls != InsnClass::Nop) return false;
    covered += d->insn.length;
  }
  return true;
}

// The instructions a jump at the site overwrites.
struct Window {
  std::vector<Decoded> displaced;
  std::vector<InsnClass> classes;
  size_t length = 0;    // bytes of the displaced instructions
  size_t patched = 0;   // bytes the jmp and its int3 fill cover: more when the flow ends in padding
  bool leaves = false;  // the last one leaves: no jump back
  bool padding_inside = false;  // the padding patched is inside the function (alignment before a label)
};

// Decodes the instruction that follows `w` and appends it when it can run
// from a trampoline: its class, or why not (`at` says where it is when it
// cannot be decoded, `within` where it is when it cannot run there).
std::variant<InsnClass, std::string> displaceable_at(const Decoder& decoder, const SiteContext& ctx, Window& w,
                                                     std::string_view at, std::string_view within) {
  const RuntimeAddr here(ctx.site.value + w.length);
  auto code = ctx.function_code.subspan(static_cast<size_t>(here - ctx.function_start));
  auto d = decoder.decode_one(code.first(std::min(code.size(), kMaxInsnLength)), here);
  if (!d) return fmt::format("undecodable instruction {}", at);
  const InsnRow* row = classify(d->enc, d->insn.code());
  const InsnClass cls = row ? row->cls : InsnClass::Plain;
  if (!displaceable(cls)) return fmt::format("the {} {} cannot run from a trampoline", d->mnemonic, within);
  w.length += d->insn.length;
  w.displaced.push_back(std::move(*d));
  w.classes.push_back(cls);
  return cls;
}

std::variant<Window, std::string> window_at(const Decoder& decoder, const SiteContext& ctx) {
  const uint64_t site = ctx.site.value;
  const size_t site_offset = static_cast<size_t>(ctx.site - ctx.function_start);
  Window w;
  while (w.length < kJmpRel32Length) {
    const size_t offset = site_offset + w.length;
    if (offset >= ctx.function_code.size()) return std::string("the function ends less than 5 bytes after the site");
    const size_t at = w.length;
    auto next = displaceable_at(decoder, ctx, w, fmt::format("at +{:#x}", at), "within the 5 bytes a jump overwrites");
    if (auto* why = std::get_if<std::string>(&next)) return std::move(*why);
    const InsnClass cls = std::get<InsnClass>(next);
    const std::string mnemonic = w.displaced.back().mnemonic;
    if (!ends_flow(cls)) continue;
    w.leaves = true;
    if (w.length >= kJmpRel32Length) break;
    // The flow leaves before 5 bytes: the jmp also covers what follows.
    // Inside the function that may be entered without a branch that shows
    // (an exception's landing pad, a jump table); after the function's
    // end it is alignment padding, which nothing runs.
    const size_t need = kJmpRel32Length - w.length;
    if (cls != InsnClass::CallRel && site_offset + w.length < ctx.function_code.size() &&
        is_padding(decoder, ctx.function_code.subspan(site_offset + w.length), need, site + w.length)) {
      // Alignment nops before a loop head GCC jumps over (sqlite3's
      // `jmp .L2; nop; .L1:`), or an int3 after a jmp: a label comes
      // after its padding, never in it, so only a branch inside the
      // window, which the analysis of the function's branches refuses,
      // could run them. (A call, 5 bytes, never leaves the window early;
      // if one did, they would be where it returns to.)
      w.patched = kJmpRel32Length;
      w.padding_inside = true;
      break;
    }
    if (site_offset + w.length < ctx.function_code.size())
      return fmt::format("the {} at +{:#x} leaves before the 5 bytes a jump overwrites end, and the bytes after it "
                         "are more of the function, which an exception or a jump table may enter",
                         mnemonic, at);
    if (!is_padding(decoder, ctx.after_function, need, site + w.length))
      return fmt::format("the function ends {} bytes after the site, and the {} bytes after it are not padding that "
                         "nothing else claims",
                         w.length, need);
    w.patched = kJmpRel32Length;
    break;
  }
  w.patched = std::max(w.patched, w.length);
  return w;
}

// The window a relay leaves at the site (jump_relay.h): its first
// instruction alone, of which the jmp rel8 covers 2 bytes.
std::variant<Window, std::string> first_instruction(const Decoder& decoder, const SiteContext& ctx) {
  Window w;
  auto first = displaceable_at(decoder, ctx, w, "at the site", "at the site");
  if (auto* why = std::get_if<std::string>(&first)) return std::move(*why);
  if (w.length < kJmpRel8Length)
    return fmt::format("the {} at the site is 1 byte, too short for a jmp rel8", w.displaced.back().mnemonic);
  w.patched = kJmpRel8Length;
  w.leaves = ends_flow(std::get<InsnClass>(first));
  return w;
}

// Appends the copy of `d` (of class `cls`) relocated to c.here(); or why not.
std::string relocate(Code& c, const Decoded& d, InsnClass cls) {
  if (cls == InsnClass::JmpRel || cls == InsnClass::Jcc) {
    const uint64_t target = relative_branch_target(d);
    const bool jcc = cls == InsnClass::Jcc;
    // Always rel32 from the trampoline: jcc rel8 (7x) becomes 0f 8x, jmp rel8 (eb) e9.
    const uint8_t cc = static_cast<uint8_t>(d.enc.opcode & 0x0f);
    const size_t insn_length = jcc ? 6 : 5;
    const int64_t rel = static_cast<int64_t>(target - (c.here() + insn_length));
    if (rel < INT32_MIN || rel > INT32_MAX) return "the branch target is out of reach of the trampoline";
    if (jcc) c.put({0x0f, static_cast<uint8_t>(0x80 | cc)});
    else c.put({0xe9});
    c.put_le<int32_t>(static_cast<int32_t>(rel));
    return {};
  }
  if (cls == InsnClass::CallRel) {
    // The callee must find the return address the call would have pushed
    // (its own ret, unwinders, return probes): pushed as two 32-bit halves
    // (push imm32 sign-extends), then a jump. lea and mov leave the flags
    // alone, as the call does.
    const uint64_t ret = d.insn.address.value + d.insn.length;
    c.put({0x48, 0x8d, 0x64, 0x24, 0xf8});  // lea rsp, [rsp - 8]
    c.put({0xc7, 0x04, 0x24});              // mov dword [rsp], low half
    c.put_le<uint32_t>(static_cast<uint32_t>(ret));
    c.put({0xc7, 0x44, 0x24, 0x04});  // mov dword [rsp + 4], high half
    c.put_le<uint32_t>(static_cast<uint32_t>(ret >> 32));
    auto jmp = jmp_rel32(c.here(), relative_branch_target(d));
    if (!jmp) return "the call's target is out of reach of the trampoline";
    c.put(*jmp);
    return {};
  }
  if (d.rip_relative()) {
    auto moved = redisplace(d, RuntimeAddr(c.here()));
    if (!moved) return "a rip-relative operand is out of reach of the trampoline";
    c.put(*moved);
    return {};
  }
  c.put(d.insn.code());
  return {};
}

}  // namespace

JumpPlan::JumpPlan(std::vector<uint8_t> trampoline, std::vector<uint8_t> site_patch, std::optional<Relay> relay,
                   RuntimeAddr site, RuntimeAddr slot, uint64_t first_relocated, std::vector<uint64_t> full_traps,
                   std::vector<uint64_t> syscall_ends, std::string description)
    : trampoline_(std::move(trampoline)),
      site_patch_(std::move(site_patch)),
      relay_(std::move(relay)),
      site_(site),
      slot_(slot),
      first_relocated_(first_relocated),
      full_traps_(std::move(full_traps)),
      syscall_ends_(std::move(syscall_ends)),
      description_(std::move(description)) {}

HitAction JumpPlan::begin_hit(Regs& regs, MemoryAccess&, StepState&) const {
  regs.words[kRip] = slot_.value;
  return HitAction::Resume;
}

void JumpPlan::finish_step(Regs&, MemoryAccess&, const StepState&) const {}
void JumpPlan::abort_step(Regs& regs, const StepState&) const { regs.words[kRip] = site_.value; }

std::optional<uint64_t> JumpPlan::original_pc(uint64_t pc) const {
  // Before the first record is reserved, and once every saved register is
  // back, the thread is exactly as it was at the site.
  // At the relay the thread has only taken the jmp rel8 from the site.
  if (pc == slot_.value || pc == first_relocated_ || (relay_ && pc == relay_->at.value)) return site_.value;
  return std::nullopt;
}

bool JumpPlan::is_ring_full_trap(RuntimeAddr trap) const {
  return std::find(full_traps_.begin(), full_traps_.end(), trap.value) != full_traps_.end();
}

bool JumpPlan::follows_syscall(uint64_t pc) const {
  return std::find(syscall_ends_.begin(), syscall_ends_.end(), pc) != syscall_ends_.end();
}

JumpBuild build_jump(const Decoder& decoder, const SiteContext& ctx, size_t slot_size) {
  if (!ctx.jump) return {nullptr, ctx.jump_unavailable};
  const JumpContext& jump = *ctx.jump;
  const uint64_t site = ctx.site.value;
  auto built = window_at(decoder, ctx);
  std::string why_window;
  if (auto* why = std::get_if<std::string>(&built)) why_window = std::move(*why);
  else why_window = branch_into(decoder, ctx, site, site + std::get<Window>(built).patched);
  // Where the 5 bytes cannot be written, a relay may still let the first
  // instruction alone be; when it cannot either, the 5 bytes' reason is the
  // one to give (it names what is in the way).
  std::optional<uint64_t> relay;
  if (!why_window.empty()) {
    // With no padding before the function, a relay was never in question.
    if (ctx.site != ctx.function_start || ctx.before_function.empty()) return {nullptr, why_window};
    built = first_instruction(decoder, ctx);
    if (std::holds_alternative<std::string>(built)) return {nullptr, why_window};
    if (!branch_into(decoder, ctx, site, site + std::get<Window>(built).length).empty()) return {nullptr, why_window};
    RelayPlace place = relay_place(decoder, ctx);
    if (!place.at) return {nullptr, fmt::format("{}; and no jmp rel8 to a relay: {}", why_window, place.why_not)};
    relay = place.at;
  }
  const Window& w = std::get<Window>(built);
  const size_t length = w.length;

  if (jump.capacity == 0 || (jump.capacity & (jump.capacity - 1)) != 0 || jump.capacity > kMaxCapacity)
    return {nullptr, fmt::format("a ring of {} records is not a power of two up to {}", jump.capacity, kMaxCapacity)};

  Code c(ctx.slot.value);
  c.put({0x48, 0x8d, 0x64, 0x24, static_cast<uint8_t>(-kRedZone)});  // lea rsp, [rsp - 128]
  c.put({0x50, 0x9f, 0x0f, 0x90, 0xc0});  // push rax; lahf; seto al
  c.put({0x50, 0x51, 0x52, 0x56});        // push rax (the flags), rcx, rdx, rsi
  std::string why_not;
  std::vector<uint64_t> full_traps, syscall_ends;
  bool filtered = false;
  for (const JumpRecordSpec& spec : jump.records) {
    // A hit its condition filters out writes no record: it costs the
    // comparisons and nothing else.
    Code::Label skip;
    if (spec.filter) {
      if (!emit_jump_filter(c, *spec.filter, site, skip, why_not)) return {nullptr, why_not};
      filtered = true;
    }
    if (!emit_record(c, jump, spec, site, full_traps, syscall_ends, why_not)) return {nullptr, why_not};
    c.bind(skip);
  }
  c.put({0x5e, 0x5a, 0x59, 0x58});  // pop rsi, rdx, rcx, rax (the flags)
  c.put({0x04, 0x7f, 0x9e, 0x58});  // add al, 0x7f (OF again); sahf; pop rax
  c.put({0x48, 0x8d, 0xa4, 0x24});                        // lea rsp, [rsp + 128]
  c.put_le<uint32_t>(kRedZone);
  const uint64_t first_relocated = c.here();

  for (size_t i = 0; i < w.displaced.size(); ++i)
    if (std::string why = relocate(c, w.displaced[i], w.classes[i]); !why.empty()) return {nullptr, why};
  if (!w.leaves) {
    auto back = jmp_rel32(c.here(), site + length);
    if (!back) return {nullptr, "the jump back is out of reach of the trampoline"};
    c.put(*back);
  }
  if (c.size() > slot_size)
    return {nullptr, fmt::format("the trampoline needs {} bytes, more than a slot's {}", c.size(), slot_size)};

  std::optional<Relay> relay_patch;
  std::optional<std::vector<uint8_t>> patch;
  std::string description;
  if (relay) {
    auto to_slot = jmp_rel32(*relay, ctx.slot.value);
    if (!to_slot) return {nullptr, "the trampoline is out of reach of a jmp rel32 from the padding before the function"};
    relay_patch = Relay{RuntimeAddr(*relay), std::move(*to_slot)};
    // eb rel8: back to the relay, before the site.
    patch = std::vector<uint8_t>{0xeb, static_cast<uint8_t>(static_cast<int8_t>(*relay - (site + kJmpRel8Length)))};
    description = fmt::format("the site's first 2 bytes become a jmp rel8 to a jmp at {:#x} in the padding before the "
                              "function, to a trampoline that records",
                              *relay);
  } else {
    patch = jmp_rel32(site, ctx.slot.value);
    if (!patch) return {nullptr, "the trampoline is out of reach of a jmp rel32"};
    patch->resize(w.patched, 0xcc);  // never run: nothing branches there (checked above)
    description = fmt::format("{} bytes at the site", w.patched);
    if (w.patched > length)
      description += fmt::format(" ({} of them padding {} the function)", w.patched - length,
                                 w.padding_inside ? "the flow jumps over, inside" : "after");
    description += " become a jmp to a trampoline that records";
  }

  size_t records = jump.records.size();
  description += records == 1 ? " the hit" : fmt::format(" {} hits", records);
  if (filtered) description += records == 1 ? " (when its condition holds)" : " (each when its condition holds)";
  description += fmt::format(" without stopping, runs {} displaced instruction{} and ", w.displaced.size(),
                             w.displaced.size() == 1 ? "" : "s");
  description += w.leaves ? "leaves by the last one" : fmt::format("jumps back to {:#x}", site + length);
  if (w.classes.back() == InsnClass::CallRel)
    description += fmt::format(" (the call pushes its own return address, {:#x})", site + length);
  if (std::any_of(w.classes.begin(), w.classes.end(),
                  [](InsnClass c) { return c == InsnClass::JmpRel || c == InsnClass::Jcc; }))
    description += " (branches retargeted with rel32)";
  if (std::any_of(w.displaced.begin(), w.displaced.end(), [](const Decoded& d) { return d.rip_relative(); }))
    description += " (rip-relative operands re-encoded for the trampoline)";
  if (relay) description += fmt::format(" (not 5 bytes at the site: {})", why_window);
  return {std::make_unique<JumpPlan>(c.take(), std::move(*patch), std::move(relay_patch), ctx.site, ctx.slot,
                                     first_relocated, std::move(full_traps), std::move(syscall_ends),
                                     std::move(description)),
          {}};
}

}  // namespace uptrace::arch::x86_64
