#include "arch/riscv64/jump_targets.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "arch/riscv64/decoder.h"
#include "arch/riscv64/encoding.h"
#include "arch/riscv64/registers.h"

namespace uptrace::arch::riscv64 {
namespace {

// Where code goes or points to, read linearly: direct branches, and the
// pairs an auipc opens (auipc+jalr: a call or tail call; auipc+addi: an
// address taken). The value an auipc left in a register is kept until
// something else writes that register; it is not cut at labels, so a pair
// split over a branch is still seen (and a wrong pairing only adds a
// target, which can only refuse more).
class Scan {
 public:
  struct Target {
    uint64_t to;
    uint64_t from;
    enum class Kind : uint8_t { Branch, Pair, Address } kind;
  };
  struct IndirectJump {
    uint64_t at;
  };

  // Reads one instruction; its targets go to `out`. An indirect jump whose
  // target nothing fixes (not a return) is returned.
  std::optional<IndirectJump> step(const Decoded& d, std::vector<Target>& out) {
    const uint32_t w = d.word;
    const uint64_t at = d.insn.address.value;
    if (!d.known()) {
      auipc_.fill(std::nullopt);
      return std::nullopt;
    }
    std::optional<IndirectJump> indirect;
    switch (d.row->cls) {
      case InsnClass::Jal: out.push_back({at + static_cast<uint64_t>(imm_j(w)), at, Target::Kind::Branch}); break;
      case InsnClass::Branch: out.push_back({at + static_cast<uint64_t>(imm_b(w)), at, Target::Kind::Branch}); break;
      case InsnClass::Jalr:
        if (auto base = auipc_[rs1(w)]) {
          out.push_back({(*base + static_cast<uint64_t>(imm_i(w))) & ~uint64_t{1}, at, Target::Kind::Pair});
        } else if (rd(w) == 0 && !(rs1(w) == kRa && imm_i(w) == 0)) {
          indirect = IndirectJump{at};
        }
        break;
      default: break;
    }
    if (d.row->cls == InsnClass::Auipc) {
      if (rd(w) != 0) auipc_[rd(w)] = at + static_cast<uint64_t>(imm_u(w));
      return indirect;
    }
    // addi rd, rs1, lo on an auipc's register: an address taken.
    if (opcode(w) == op::kOpImm && funct3(w) == 0)
      if (auto base = auipc_[rs1(w)]) out.push_back({*base + static_cast<uint64_t>(imm_i(w)), at, Target::Kind::Address});
    if (writes_rd(w) && rd(w) != 0) auipc_[rd(w)] = std::nullopt;
    return indirect;
  }

 private:
  // Whether the word's rd field names a register it writes (the formats
  // without one: stores, branches, fences, and the system instructions
  // that write none; the float instructions' rd is a float register).
  static bool writes_rd(uint32_t w) {
    switch (opcode(w)) {
      case op::kStore:
      case op::kStoreFp:
      case op::kBranch:
      case op::kMiscMem:
      case op::kLoadFp:
      case op::kMadd:
      case op::kMsub:
      case op::kNmsub:
      case op::kNmadd: return false;
      case op::kOpFp: return true;  // some write an x register (fmv.x.d, fcvt.l.d, feq): taken as writing it
      default: return true;
    }
  }
  std::array<std::optional<uint64_t>, 32> auipc_{};
};

// Every target in the module, sorted (ImageReader::derived), and every
// function's start.
struct ModuleTargets {
  std::vector<std::pair<uint64_t, uint64_t>> targets;  // (to, from)
  std::vector<uint64_t> starts;
};

std::shared_ptr<const ModuleTargets> module_targets(const ImageReader& image) {
  if (image.derived) return std::static_pointer_cast<const ModuleTargets>(image.derived);
  auto out = std::make_shared<ModuleTargets>();
  std::vector<Scan::Target> found;
  for (const CodePart& f : image.functions()) {
    out->starts.push_back(f.start.value);
    Scan scan;
    // A function that does not decode to its end is read up to there.
    for (const Decoded& d : decode_all(f.code, f.start)) scan.step(d, found);
  }
  for (const Scan::Target& t : found) out->targets.emplace_back(t.to, t.from);
  std::sort(out->targets.begin(), out->targets.end());
  std::sort(out->starts.begin(), out->starts.end());
  image.derived = out;
  return out;
}

std::string where(const CodePart& part, bool elsewhere, uint64_t at) {
  return elsewhere ? fmt::format("{:#x} (in a part of the function placed elsewhere)", at)
                   : fmt::format("+{:#x}", at - part.start.value);
}

}  // namespace

std::string arrival_inside(const SiteContext& ctx, std::span<const Decoded> code, uint64_t lo, uint64_t hi) {
  auto inside = [&](uint64_t at) { return at > lo && at < hi; };
  if (!ctx.image)
    return "the module's code is not known, so branches from elsewhere into the bytes the jal covers cannot be ruled out";
  if (!ctx.image->functions_complete())
    return "the module has no symbol table (.symtab), so not every branch into the bytes the jal covers can be seen";

  // The function and its parts placed elsewhere, each decoded whole.
  struct Decodes {
    CodePart part;
    bool elsewhere;
    std::vector<Decoded> insns;
  };
  std::vector<Decodes> parts;
  parts.push_back({CodePart{ctx.function_start, ctx.function_code}, false, {code.begin(), code.end()}});
  for (const CodePart& p : ctx.other_parts) parts.push_back({p, true, decode_all(p.code, p.start)});
  for (const Decodes& p : parts) {
    uint64_t end = p.part.start.value;
    for (const Decoded& d : p.insns) {
      if (!d.known())
        return fmt::format("the function has an instruction uptrace does not know at {} ({}), which may be a branch "
                           "into the bytes the jal covers",
                           where(p.part, p.elsewhere, d.insn.address.value), d.insn.text);
      end = d.insn.address.value + d.insn.length;
    }
    if (end != p.part.start.value + p.part.code.size())
      return fmt::format("the function cannot be decoded to its end (at {})", where(p.part, p.elsewhere, end));
  }

  // Its own branches, and its indirect jumps.
  for (const Decodes& p : parts) {
    Scan scan;
    std::vector<Scan::Target> targets;
    for (const Decoded& d : p.insns) {
      targets.clear();
      if (auto jump = scan.step(d, targets))
        return fmt::format("the function has an indirect jump at {} ({}) whose targets are unknown (a switch's jump "
                           "table or a computed goto, which riscv64 does not read yet, may land inside the bytes the "
                           "jal covers)",
                           where(p.part, p.elsewhere, jump->at), d.insn.text);
      for (const Scan::Target& t : targets) {
        if (!inside(t.to)) continue;
        if (t.kind == Scan::Target::Kind::Address)
          return fmt::format("the {} at {} takes the address of a place inside the bytes the jal covers", d.name(),
                             where(p.part, p.elsewhere, t.from));
        return fmt::format("the {} at {} lands inside the bytes the jal covers", d.name(),
                           where(p.part, p.elsewhere, t.from));
      }
    }
  }

  // The whole module's: hand-written assembly enters other functions' middles.
  const auto module = module_targets(*ctx.image);
  if (auto it = std::upper_bound(module->targets.begin(), module->targets.end(), std::pair{lo, UINT64_MAX});
      it != module->targets.end() && it->first < hi)
    return fmt::format("the code at {:#x}, elsewhere in the module, branches to or takes the address {:#x}, inside the "
                       "bytes the jal covers",
                       it->second, it->first);
  if (auto it = std::upper_bound(module->starts.begin(), module->starts.end(), lo);
      it != module->starts.end() && *it < hi)
    return fmt::format("a symbol starts at {:#x}, inside the bytes the jal covers", *it);
  const auto frames = ctx.image->frame_starts_in(RuntimeAddr(lo), RuntimeAddr(hi));
  if (!frames) return "whether an unwind entry (FDE) starts inside the bytes the jal covers is not known";
  if (*frames) return "an unwind entry (FDE) starts inside the bytes the jal covers";
  const auto pads = ctx.image->landing_pads_in(RuntimeAddr(lo), RuntimeAddr(hi));
  if (!pads) return "whether the function has landing pads is not known (.eh_frame cannot be read)";
  if (*pads)
    return "the function has landing pads (its unwind entry names a language-specific data area), which the "
           "unwinder may enter inside the bytes the jal covers";
  if (ctx.image->pointer_into(RuntimeAddr(lo), RuntimeAddr(hi)) == true)
    return "the module stores an address inside the bytes the jal covers (a relocation's value)";
  return {};
}

}  // namespace uptrace::arch::riscv64
