#include "arch/riscv64/insn_table.h"

#include <algorithm>

#include "arch/riscv64/encoding.h"

namespace uptrace::arch::riscv64 {
namespace {

using C = InsnClass;
using F = Format;

// Pattern pieces.
constexpr uint32_t kOpc = 0x0000007f;
constexpr uint32_t kF3 = 0x0000707f;     // funct3 + opcode
constexpr uint32_t kF7 = 0xfe00707f;     // funct7 + funct3 + opcode
constexpr uint32_t kF6 = 0xfc00707f;     // funct6 + funct3 + opcode (RV64 shifts by immediate)
constexpr uint32_t kRd = 0x00000f80;
constexpr uint32_t kRs1 = 0x000f8000;
constexpr uint32_t kRs2 = 0x01f00000;
constexpr uint32_t kImm = 0xfff00000;    // the I-type immediate
constexpr uint32_t kAmo = 0xf800707f;    // funct5 + funct3 + opcode: aq and rl free
constexpr uint32_t kFpRm = 0xfe00007f;   // funct7 + opcode: rm free
constexpr uint32_t kFused = 0x0600007f;  // fmt + opcode: rs3 and rm free
constexpr uint32_t kExact = 0xffffffff;

constexpr uint32_t f3(unsigned v) { return v << 12; }
constexpr uint32_t f7(unsigned v) { return v << 25; }
constexpr uint32_t r2(unsigned v) { return v << 20; }
constexpr uint32_t i12(unsigned v) { return v << 20; }  // an I-type immediate's bits

constexpr std::string_view kJal = "a jump and link: emulated, rd = the site's next instruction and pc = the target";
constexpr std::string_view kJalr =
    "an indirect jump and link: emulated, the target is read from rs1 before rd is written";
constexpr std::string_view kBranch = "a conditional branch: emulated, the registers are compared";
constexpr std::string_view kAuipc =
    "adds the site's address to an immediate: emulated, or stepped with the result moved from the slot's address "
    "to the site's";
constexpr std::string_view kSkip = "has no effect: emulated, execution continues after it";
constexpr std::string_view kAmoStep = "a single atomic memory operation: stepped";
constexpr std::string_view kFence =
    "orders this hart's memory accesses wherever it runs: stepped (the trap's round trip through the kernel is "
    "itself ordered at least as strongly)";
constexpr std::string_view kTrap = "is already a breakpoint instruction";
constexpr std::string_view kUnimp = "is the defined illegal instruction, used as a trap";
constexpr std::string_view kEcall =
    "is a system call: executed in the slot, an interrupted call would be restarted at the slot's address, a child "
    "made by clone or fork would start in the slot, and the thread may block there";
constexpr std::string_view kCsr =
    "reads or writes a control and status register; uptrace refuses them all, as the kernel's probes refuse every "
    "SYSTEM instruction (the counters would count the tracer's round trip, and the privileged ones fault)";
constexpr std::string_view kFenceI =
    "makes this hart's earlier stores visible to its own instruction fetch, for code that writes code; refused, as "
    "the kernel's probes refuse it: the trap's round trip through the kernel may resume the thread on another hart, "
    "whose fetch the fence.i in the slot does not order";
constexpr std::string_view kPrivileged = "is privileged: it only faults in user mode";
constexpr std::string_view kLr =
    "is a load-reserved: the trap that ends its step goes through the kernel, whose return to user mode clears "
    "the reservation, so the store-conditional it pairs with would fail every time and its retry loop never end";
constexpr std::string_view kSc =
    "is a store-conditional: the trap at it goes through the kernel, whose return to user mode clears the "
    "reservation its load-reserved took, so it would fail every time and its retry loop never end";

constexpr InsnRow kRows[] = {
    // --- SYSTEM: traps, system calls, privileged, CSRs --------------------
    {"ebreak", kExact, 0x00100073, F::None, C::Trap, "I", kTrap},
    {"unimp", kExact, 0xc0001073, F::None, C::Trap, "I", kUnimp},  // csrrw zero, cycle, zero
    {"ecall", kExact, 0x00000073, F::None, C::Refused, "I", kEcall},
    {"sret", kExact, 0x10200073, F::None, C::Refused, "Priv", kPrivileged},
    {"mret", kExact, 0x30200073, F::None, C::Refused, "Priv", kPrivileged},
    {"wfi", kExact, 0x10500073, F::None, C::Refused, "Priv", kPrivileged},
    {"sfence.vma", 0xfe007fff, 0x12000073, F::SfenceVma, C::Refused, "Priv", kPrivileged},
    // CSR aliases, as objdump prints them.
    {"frcsr", 0xfffff07f, 0x00302073, F::Rd, C::Refused, "F", kCsr},
    {"fscsr", 0xfff07fff, 0x00301073, F::Rs1, C::Refused, "F", kCsr},
    {"fscsr", kImm | kF3, 0x00301073, F::RdRs1, C::Refused, "F", kCsr},
    {"frrm", 0xfffff07f, 0x00202073, F::Rd, C::Refused, "F", kCsr},
    {"fsrm", 0xfff07fff, 0x00201073, F::Rs1, C::Refused, "F", kCsr},
    {"fsrm", kImm | kF3, 0x00201073, F::RdRs1, C::Refused, "F", kCsr},
    {"fsrmi", kImm | kF3, 0x00205073, F::RdUimm, C::Refused, "F", kCsr},
    {"frflags", 0xfffff07f, 0x00102073, F::Rd, C::Refused, "F", kCsr},
    {"fsflags", 0xfff07fff, 0x00101073, F::Rs1, C::Refused, "F", kCsr},
    {"fsflags", kImm | kF3, 0x00101073, F::RdRs1, C::Refused, "F", kCsr},
    {"fsflagsi", kImm | kF3, 0x00105073, F::RdUimm, C::Refused, "F", kCsr},
    {"rdcycle", 0xfffff07f, 0xc0002073, F::Rd, C::Refused, "Zicntr", kCsr},
    {"rdtime", 0xfffff07f, 0xc0102073, F::Rd, C::Refused, "Zicntr", kCsr},
    {"rdinstret", 0xfffff07f, 0xc0202073, F::Rd, C::Refused, "Zicntr", kCsr},
    {"csrr", kRs1 | kF3, 0x00002073, F::CsrRead, C::Refused, "Zicsr", kCsr},
    {"csrw", kRd | kF3, 0x00001073, F::CsrWrite, C::Refused, "Zicsr", kCsr},
    {"csrs", kRd | kF3, 0x00002073, F::CsrWrite, C::Refused, "Zicsr", kCsr},
    {"csrc", kRd | kF3, 0x00003073, F::CsrWrite, C::Refused, "Zicsr", kCsr},
    {"csrwi", kRd | kF3, 0x00005073, F::CsrWriteImm, C::Refused, "Zicsr", kCsr},
    {"csrsi", kRd | kF3, 0x00006073, F::CsrWriteImm, C::Refused, "Zicsr", kCsr},
    {"csrci", kRd | kF3, 0x00007073, F::CsrWriteImm, C::Refused, "Zicsr", kCsr},
    {"csrrw", kF3, 0x00001073, F::Csr, C::Refused, "Zicsr", kCsr},
    {"csrrs", kF3, 0x00002073, F::Csr, C::Refused, "Zicsr", kCsr},
    {"csrrc", kF3, 0x00003073, F::Csr, C::Refused, "Zicsr", kCsr},
    {"csrrwi", kF3, 0x00005073, F::CsrImm, C::Refused, "Zicsr", kCsr},
    {"csrrsi", kF3, 0x00006073, F::CsrImm, C::Refused, "Zicsr", kCsr},
    {"csrrci", kF3, 0x00007073, F::CsrImm, C::Refused, "Zicsr", kCsr},

    // --- MISC-MEM ------------------------------------------------------------
    // The fields the fences leave unused (rd, rs1, fence.i's immediate, the
    // other fm values) are reserved for finer-grained fences: encodings that
    // set them are not decoded (as objdump does not), so they are refused.
    {"fence.i", kExact, 0x0000100f, F::None, C::Refused, "Zifencei", kFenceI},
    {"fence.tso", kExact, 0x8330000f, F::None, C::Plain, "I", kFence},
    {"pause", kExact, 0x0100000f, F::None, C::Plain, "Zihintpause", kFence},
    {"fence", kExact, 0x0ff0000f, F::None, C::Plain, "I", kFence},
    {"fence", 0xf00fffff, 0x0000000f, F::Fence, C::Plain, "I", kFence},

    // --- control flow -----------------------------------------------------------
    {"j", kRd | kOpc, 0x0000006f, F::Jump, C::Jal, "I", kJal},
    {"jal", kRd | kOpc, 0x000000ef, F::Jump, C::Jal, "I", kJal},
    {"jal", kOpc, 0x0000006f, F::RdJump, C::Jal, "I", kJal},
    {"ret", kExact, 0x00008067, F::None, C::Jalr, "I", kJalr},
    {"jr", kImm | kRd | kF3, 0x00000067, F::Rs1, C::Jalr, "I", kJalr},
    {"jalr", kImm | kRd | kF3, 0x000000e7, F::Rs1, C::Jalr, "I", kJalr},
    {"jr", kRd | kF3, 0x00000067, F::Rs1Offset, C::Jalr, "I", kJalr},
    {"jalr", kRd | kF3, 0x000000e7, F::Rs1Offset, C::Jalr, "I", kJalr},
    {"jalr", kImm | kF3, 0x00000067, F::RdRs1Jalr, C::Jalr, "I", kJalr},
    {"jalr", kF3, 0x00000067, F::RdOffsetRs1, C::Jalr, "I", kJalr},
    {"beqz", kRs2 | kF3, 0x00000063, F::BranchRs1, C::Branch, "I", kBranch},
    {"bnez", kRs2 | kF3, 0x00001063, F::BranchRs1, C::Branch, "I", kBranch},
    // Both zero: objdump prints blt zero, zero as bltz and bge zero, zero as blez.
    {"bltz", kRs2 | kF3, 0x00004063, F::BranchRs1, C::Branch, "I", kBranch},
    {"bgtz", kRs1 | kF3, 0x00004063, F::BranchRs2, C::Branch, "I", kBranch},
    {"blez", kRs1 | kF3, 0x00005063, F::BranchRs2, C::Branch, "I", kBranch},
    {"bgez", kRs2 | kF3, 0x00005063, F::BranchRs1, C::Branch, "I", kBranch},
    {"beq", kF3, 0x00000063, F::Branch, C::Branch, "I", kBranch},
    {"bne", kF3, 0x00001063, F::Branch, C::Branch, "I", kBranch},
    {"blt", kF3, 0x00004063, F::Branch, C::Branch, "I", kBranch},
    {"bge", kF3, 0x00005063, F::Branch, C::Branch, "I", kBranch},
    {"bltu", kF3, 0x00006063, F::Branch, C::Branch, "I", kBranch},
    {"bgeu", kF3, 0x00007063, F::Branch, C::Branch, "I", kBranch},
    {"auipc", kOpc, 0x00000017, F::RdUimm20, C::Auipc, "I", kAuipc},
    {"lui", kOpc, 0x00000037, F::RdUimm20, C::Plain, "I"},

    // --- OP-IMM, OP-IMM-32 ------------------------------------------------------
    {"nop", kExact, 0x00000013, F::None, C::Skip, "I", kSkip},
    {"li", kRs1 | kF3, 0x00000013, F::RdImm, C::Plain, "I"},
    {"mv", kImm | kF3, 0x00000013, F::RdRs1, C::Plain, "I"},
    {"addi", kF3, 0x00000013, F::RdRs1Imm, C::Plain, "I"},
    {"slti", kF3, 0x00002013, F::RdRs1Imm, C::Plain, "I"},
    {"seqz", kImm | kF3, i12(1) | 0x00003013, F::RdRs1, C::Plain, "I"},
    {"sltiu", kF3, 0x00003013, F::RdRs1Imm, C::Plain, "I"},
    {"not", kImm | kF3, i12(0xfff) | 0x00004013, F::RdRs1, C::Plain, "I"},
    {"xori", kF3, 0x00004013, F::RdRs1Imm, C::Plain, "I"},
    {"ori", kF3, 0x00006013, F::RdRs1Imm, C::Plain, "I"},
    {"zext.b", kImm | kF3, i12(0xff) | 0x00007013, F::RdRs1, C::Plain, "I"},
    {"andi", kF3, 0x00007013, F::RdRs1Imm, C::Plain, "I"},
    {"slli", kF6, 0x00001013, F::RdRs1Shamt, C::Plain, "I"},
    {"srli", kF6, 0x00005013, F::RdRs1Shamt, C::Plain, "I"},
    {"srai", kF6, 0x40005013, F::RdRs1Shamt, C::Plain, "I"},
    {"sext.w", kImm | kF3, 0x0000001b, F::RdRs1, C::Plain, "I"},
    {"addiw", kF3, 0x0000001b, F::RdRs1Imm, C::Plain, "I"},
    {"slliw", kF7, 0x0000101b, F::RdRs1Shamt, C::Plain, "I"},
    {"srliw", kF7, 0x0000501b, F::RdRs1Shamt, C::Plain, "I"},
    {"sraiw", kF7, 0x4000501b, F::RdRs1Shamt, C::Plain, "I"},
    // Zbb and Zbs forms of OP-IMM / OP-IMM-32.
    {"clz", kRs2 | kF7, 0x60001013, F::RdRs1, C::Plain, "Zbb"},
    {"ctz", kRs2 | kF7, r2(1) | 0x60001013, F::RdRs1, C::Plain, "Zbb"},
    {"cpop", kRs2 | kF7, r2(2) | 0x60001013, F::RdRs1, C::Plain, "Zbb"},
    {"sext.b", kRs2 | kF7, r2(4) | 0x60001013, F::RdRs1, C::Plain, "Zbb"},
    {"sext.h", kRs2 | kF7, r2(5) | 0x60001013, F::RdRs1, C::Plain, "Zbb"},
    {"rori", kF6, 0x60005013, F::RdRs1Shamt, C::Plain, "Zbb"},
    {"orc.b", kImm | kF3, 0x28705013, F::RdRs1, C::Plain, "Zbb"},
    {"rev8", kImm | kF3, 0x6b805013, F::RdRs1, C::Plain, "Zbb"},
    {"bclri", kF6, 0x48001013, F::RdRs1Shamt, C::Plain, "Zbs"},
    {"bseti", kF6, 0x28001013, F::RdRs1Shamt, C::Plain, "Zbs"},
    {"binvi", kF6, 0x68001013, F::RdRs1Shamt, C::Plain, "Zbs"},
    {"bexti", kF6, 0x48005013, F::RdRs1Shamt, C::Plain, "Zbs"},
    {"clzw", kRs2 | kF7, 0x6000101b, F::RdRs1, C::Plain, "Zbb"},
    {"ctzw", kRs2 | kF7, r2(1) | 0x6000101b, F::RdRs1, C::Plain, "Zbb"},
    {"cpopw", kRs2 | kF7, r2(2) | 0x6000101b, F::RdRs1, C::Plain, "Zbb"},
    {"roriw", kF7, 0x6000501b, F::RdRs1Shamt, C::Plain, "Zbb"},
    {"slli.uw", kF6, 0x0800101b, F::RdRs1Shamt, C::Plain, "Zba"},

    // --- OP, OP-32 ---------------------------------------------------------------
    {"neg", kRs1 | kF7, 0x40000033, F::RdRs2, C::Plain, "I"},
    {"snez", kRs1 | kF7, 0x00003033, F::RdRs2, C::Plain, "I"},
    {"sltz", kRs2 | kF7, 0x00002033, F::RdRs1, C::Plain, "I"},
    {"sgtz", kRs1 | kF7, 0x00002033, F::RdRs2, C::Plain, "I"},
    {"add", kF7, 0x00000033, F::RdRs1Rs2, C::Plain, "I"},
    {"sub", kF7, 0x40000033, F::RdRs1Rs2, C::Plain, "I"},
    {"sll", kF7, 0x00001033, F::RdRs1Rs2, C::Plain, "I"},
    {"slt", kF7, 0x00002033, F::RdRs1Rs2, C::Plain, "I"},
    {"sltu", kF7, 0x00003033, F::RdRs1Rs2, C::Plain, "I"},
    {"xor", kF7, 0x00004033, F::RdRs1Rs2, C::Plain, "I"},
    {"srl", kF7, 0x00005033, F::RdRs1Rs2, C::Plain, "I"},
    {"sra", kF7, 0x40005033, F::RdRs1Rs2, C::Plain, "I"},
    {"or", kF7, 0x00006033, F::RdRs1Rs2, C::Plain, "I"},
    {"and", kF7, 0x00007033, F::RdRs1Rs2, C::Plain, "I"},
    {"mul", kF7, 0x02000033, F::RdRs1Rs2, C::Plain, "M"},
    {"mulh", kF7, 0x02001033, F::RdRs1Rs2, C::Plain, "M"},
    {"mulhsu", kF7, 0x02002033, F::RdRs1Rs2, C::Plain, "M"},
    {"mulhu", kF7, 0x02003033, F::RdRs1Rs2, C::Plain, "M"},
    {"div", kF7, 0x02004033, F::RdRs1Rs2, C::Plain, "M"},
    {"divu", kF7, 0x02005033, F::RdRs1Rs2, C::Plain, "M"},
    {"rem", kF7, 0x02006033, F::RdRs1Rs2, C::Plain, "M"},
    {"remu", kF7, 0x02007033, F::RdRs1Rs2, C::Plain, "M"},
    {"negw", kRs1 | kF7, 0x4000003b, F::RdRs2, C::Plain, "I"},
    {"addw", kF7, 0x0000003b, F::RdRs1Rs2, C::Plain, "I"},
    {"subw", kF7, 0x4000003b, F::RdRs1Rs2, C::Plain, "I"},
    {"sllw", kF7, 0x0000103b, F::RdRs1Rs2, C::Plain, "I"},
    {"srlw", kF7, 0x0000503b, F::RdRs1Rs2, C::Plain, "I"},
    {"sraw", kF7, 0x4000503b, F::RdRs1Rs2, C::Plain, "I"},
    {"mulw", kF7, 0x0200003b, F::RdRs1Rs2, C::Plain, "M"},
    {"divw", kF7, 0x0200403b, F::RdRs1Rs2, C::Plain, "M"},
    {"divuw", kF7, 0x0200503b, F::RdRs1Rs2, C::Plain, "M"},
    {"remw", kF7, 0x0200603b, F::RdRs1Rs2, C::Plain, "M"},
    {"remuw", kF7, 0x0200703b, F::RdRs1Rs2, C::Plain, "M"},
    // Zba, Zbb, Zbs, Zicond forms of OP / OP-32.
    {"sh1add", kF7, 0x20002033, F::RdRs1Rs2, C::Plain, "Zba"},
    {"sh2add", kF7, 0x20004033, F::RdRs1Rs2, C::Plain, "Zba"},
    {"sh3add", kF7, 0x20006033, F::RdRs1Rs2, C::Plain, "Zba"},
    {"zext.w", kRs2 | kF7, 0x0800003b, F::RdRs1, C::Plain, "Zba"},
    {"add.uw", kF7, 0x0800003b, F::RdRs1Rs2, C::Plain, "Zba"},
    {"sh1add.uw", kF7, 0x2000203b, F::RdRs1Rs2, C::Plain, "Zba"},
    {"sh2add.uw", kF7, 0x2000403b, F::RdRs1Rs2, C::Plain, "Zba"},
    {"sh3add.uw", kF7, 0x2000603b, F::RdRs1Rs2, C::Plain, "Zba"},
    {"andn", kF7, 0x40007033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"orn", kF7, 0x40006033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"xnor", kF7, 0x40004033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"min", kF7, 0x0a004033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"minu", kF7, 0x0a005033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"max", kF7, 0x0a006033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"maxu", kF7, 0x0a007033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"rol", kF7, 0x60001033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"ror", kF7, 0x60005033, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"zext.h", kRs2 | kF7, 0x0800403b, F::RdRs1, C::Plain, "Zbb"},
    {"rolw", kF7, 0x6000103b, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"rorw", kF7, 0x6000503b, F::RdRs1Rs2, C::Plain, "Zbb"},
    {"bclr", kF7, 0x48001033, F::RdRs1Rs2, C::Plain, "Zbs"},
    {"bset", kF7, 0x28001033, F::RdRs1Rs2, C::Plain, "Zbs"},
    {"binv", kF7, 0x68001033, F::RdRs1Rs2, C::Plain, "Zbs"},
    {"bext", kF7, 0x48005033, F::RdRs1Rs2, C::Plain, "Zbs"},
    {"czero.eqz", kF7, 0x0e005033, F::RdRs1Rs2, C::Plain, "Zicond"},
    {"czero.nez", kF7, 0x0e007033, F::RdRs1Rs2, C::Plain, "Zicond"},

    // --- loads and stores ----------------------------------------------------------
    {"lb", kF3, 0x00000003, F::Load, C::Plain, "I"},
    {"lh", kF3, 0x00001003, F::Load, C::Plain, "I"},
    {"lw", kF3, 0x00002003, F::Load, C::Plain, "I"},
    {"ld", kF3, 0x00003003, F::Load, C::Plain, "I"},
    {"lbu", kF3, 0x00004003, F::Load, C::Plain, "I"},
    {"lhu", kF3, 0x00005003, F::Load, C::Plain, "I"},
    {"lwu", kF3, 0x00006003, F::Load, C::Plain, "I"},
    {"sb", kF3, 0x00000023, F::Store, C::Plain, "I"},
    {"sh", kF3, 0x00001023, F::Store, C::Plain, "I"},
    {"sw", kF3, 0x00002023, F::Store, C::Plain, "I"},
    {"sd", kF3, 0x00003023, F::Store, C::Plain, "I"},
    {"flw", kF3, 0x00002007, F::FLoad, C::Plain, "F"},
    {"fld", kF3, 0x00003007, F::FLoad, C::Plain, "D"},
    {"fsw", kF3, 0x00002027, F::FStore, C::Plain, "F"},
    {"fsd", kF3, 0x00003027, F::FStore, C::Plain, "D"},

    // --- A ------------------------------------------------------------------------
    {"lr.w", kAmo | kRs2, 0x1000202f, F::Lr, C::LoadReserved, "A", kLr},
    {"sc.w", kAmo, 0x1800202f, F::Amo, C::StoreConditional, "A", kSc},
    {"lr.d", kAmo | kRs2, 0x1000302f, F::Lr, C::LoadReserved, "A", kLr},
    {"sc.d", kAmo, 0x1800302f, F::Amo, C::StoreConditional, "A", kSc},
    {"amoswap.w", kAmo, 0x0800202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoadd.w", kAmo, 0x0000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoxor.w", kAmo, 0x2000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoand.w", kAmo, 0x6000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoor.w", kAmo, 0x4000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amomin.w", kAmo, 0x8000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amomax.w", kAmo, 0xa000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amominu.w", kAmo, 0xc000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amomaxu.w", kAmo, 0xe000202f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoswap.d", kAmo, 0x0800302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoadd.d", kAmo, 0x0000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoxor.d", kAmo, 0x2000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoand.d", kAmo, 0x6000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amoor.d", kAmo, 0x4000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amomin.d", kAmo, 0x8000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amomax.d", kAmo, 0xa000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amominu.d", kAmo, 0xc000302f, F::Amo, C::Plain, "A", kAmoStep},
    {"amomaxu.d", kAmo, 0xe000302f, F::Amo, C::Plain, "A", kAmoStep},

    // --- F and D ------------------------------------------------------------------------
    {"fmadd.s", kFused, 0x00000043, F::F4Rm, C::Plain, "F"},
    {"fmsub.s", kFused, 0x00000047, F::F4Rm, C::Plain, "F"},
    {"fnmsub.s", kFused, 0x0000004b, F::F4Rm, C::Plain, "F"},
    {"fnmadd.s", kFused, 0x0000004f, F::F4Rm, C::Plain, "F"},
    {"fmadd.d", kFused, 0x02000043, F::F4Rm, C::Plain, "D"},
    {"fmsub.d", kFused, 0x02000047, F::F4Rm, C::Plain, "D"},
    {"fnmsub.d", kFused, 0x0200004b, F::F4Rm, C::Plain, "D"},
    {"fnmadd.d", kFused, 0x0200004f, F::F4Rm, C::Plain, "D"},
    {"fadd.s", kFpRm, f7(0x00) | 0x53, F::F3Rm, C::Plain, "F"},
    {"fsub.s", kFpRm, f7(0x04) | 0x53, F::F3Rm, C::Plain, "F"},
    {"fmul.s", kFpRm, f7(0x08) | 0x53, F::F3Rm, C::Plain, "F"},
    {"fdiv.s", kFpRm, f7(0x0c) | 0x53, F::F3Rm, C::Plain, "F"},
    {"fsqrt.s", kFpRm | kRs2, f7(0x2c) | 0x53, F::F2Rm, C::Plain, "F"},
    {"fmv.s", kF7, f7(0x10) | f3(0) | 0x53, F::F2, C::Plain, "F", {}, Constraint::Rs1EqRs2},
    {"fneg.s", kF7, f7(0x10) | f3(1) | 0x53, F::F2, C::Plain, "F", {}, Constraint::Rs1EqRs2},
    {"fabs.s", kF7, f7(0x10) | f3(2) | 0x53, F::F2, C::Plain, "F", {}, Constraint::Rs1EqRs2},
    {"fsgnj.s", kF7, f7(0x10) | f3(0) | 0x53, F::F3, C::Plain, "F"},
    {"fsgnjn.s", kF7, f7(0x10) | f3(1) | 0x53, F::F3, C::Plain, "F"},
    {"fsgnjx.s", kF7, f7(0x10) | f3(2) | 0x53, F::F3, C::Plain, "F"},
    {"fmin.s", kF7, f7(0x14) | f3(0) | 0x53, F::F3, C::Plain, "F"},
    {"fmax.s", kF7, f7(0x14) | f3(1) | 0x53, F::F3, C::Plain, "F"},
    {"fcvt.w.s", kFpRm | kRs2, f7(0x60) | r2(0) | 0x53, F::XFRm, C::Plain, "F"},
    {"fcvt.wu.s", kFpRm | kRs2, f7(0x60) | r2(1) | 0x53, F::XFRm, C::Plain, "F"},
    {"fcvt.l.s", kFpRm | kRs2, f7(0x60) | r2(2) | 0x53, F::XFRm, C::Plain, "F"},
    {"fcvt.lu.s", kFpRm | kRs2, f7(0x60) | r2(3) | 0x53, F::XFRm, C::Plain, "F"},
    {"fmv.x.w", kF7 | kRs2, f7(0x70) | f3(0) | 0x53, F::XF, C::Plain, "F"},
    {"fclass.s", kF7 | kRs2, f7(0x70) | f3(1) | 0x53, F::XF, C::Plain, "F"},
    {"feq.s", kF7, f7(0x50) | f3(2) | 0x53, F::XFF, C::Plain, "F"},
    {"flt.s", kF7, f7(0x50) | f3(1) | 0x53, F::XFF, C::Plain, "F"},
    {"fle.s", kF7, f7(0x50) | f3(0) | 0x53, F::XFF, C::Plain, "F"},
    {"fcvt.s.w", kFpRm | kRs2, f7(0x68) | r2(0) | 0x53, F::FXRm, C::Plain, "F"},
    {"fcvt.s.wu", kFpRm | kRs2, f7(0x68) | r2(1) | 0x53, F::FXRm, C::Plain, "F"},
    {"fcvt.s.l", kFpRm | kRs2, f7(0x68) | r2(2) | 0x53, F::FXRm, C::Plain, "F"},
    {"fcvt.s.lu", kFpRm | kRs2, f7(0x68) | r2(3) | 0x53, F::FXRm, C::Plain, "F"},
    {"fmv.w.x", kF7 | kRs2, f7(0x78) | f3(0) | 0x53, F::FX, C::Plain, "F"},
    {"fadd.d", kFpRm, f7(0x01) | 0x53, F::F3Rm, C::Plain, "D"},
    {"fsub.d", kFpRm, f7(0x05) | 0x53, F::F3Rm, C::Plain, "D"},
    {"fmul.d", kFpRm, f7(0x09) | 0x53, F::F3Rm, C::Plain, "D"},
    {"fdiv.d", kFpRm, f7(0x0d) | 0x53, F::F3Rm, C::Plain, "D"},
    {"fsqrt.d", kFpRm | kRs2, f7(0x2d) | 0x53, F::F2Rm, C::Plain, "D"},
    {"fmv.d", kF7, f7(0x11) | f3(0) | 0x53, F::F2, C::Plain, "D", {}, Constraint::Rs1EqRs2},
    {"fneg.d", kF7, f7(0x11) | f3(1) | 0x53, F::F2, C::Plain, "D", {}, Constraint::Rs1EqRs2},
    {"fabs.d", kF7, f7(0x11) | f3(2) | 0x53, F::F2, C::Plain, "D", {}, Constraint::Rs1EqRs2},
    {"fsgnj.d", kF7, f7(0x11) | f3(0) | 0x53, F::F3, C::Plain, "D"},
    {"fsgnjn.d", kF7, f7(0x11) | f3(1) | 0x53, F::F3, C::Plain, "D"},
    {"fsgnjx.d", kF7, f7(0x11) | f3(2) | 0x53, F::F3, C::Plain, "D"},
    {"fmin.d", kF7, f7(0x15) | f3(0) | 0x53, F::F3, C::Plain, "D"},
    {"fmax.d", kF7, f7(0x15) | f3(1) | 0x53, F::F3, C::Plain, "D"},
    {"fcvt.s.d", kFpRm | kRs2, f7(0x20) | r2(1) | 0x53, F::F2Rm, C::Plain, "D"},
    {"fcvt.d.s", kFpRm | kRs2, f7(0x21) | r2(0) | 0x53, F::F2Exact, C::Plain, "D"},
    {"feq.d", kF7, f7(0x51) | f3(2) | 0x53, F::XFF, C::Plain, "D"},
    {"flt.d", kF7, f7(0x51) | f3(1) | 0x53, F::XFF, C::Plain, "D"},
    {"fle.d", kF7, f7(0x51) | f3(0) | 0x53, F::XFF, C::Plain, "D"},
    {"fclass.d", kF7 | kRs2, f7(0x71) | f3(1) | 0x53, F::XF, C::Plain, "D"},
    {"fcvt.w.d", kFpRm | kRs2, f7(0x61) | r2(0) | 0x53, F::XFRm, C::Plain, "D"},
    {"fcvt.wu.d", kFpRm | kRs2, f7(0x61) | r2(1) | 0x53, F::XFRm, C::Plain, "D"},
    {"fcvt.l.d", kFpRm | kRs2, f7(0x61) | r2(2) | 0x53, F::XFRm, C::Plain, "D"},
    {"fcvt.lu.d", kFpRm | kRs2, f7(0x61) | r2(3) | 0x53, F::XFRm, C::Plain, "D"},
    {"fcvt.d.w", kFpRm | kRs2, f7(0x69) | r2(0) | 0x53, F::FXExact, C::Plain, "D"},
    {"fcvt.d.wu", kFpRm | kRs2, f7(0x69) | r2(1) | 0x53, F::FXExact, C::Plain, "D"},
    {"fcvt.d.l", kFpRm | kRs2, f7(0x69) | r2(2) | 0x53, F::FXRm, C::Plain, "D"},
    {"fcvt.d.lu", kFpRm | kRs2, f7(0x69) | r2(3) | 0x53, F::FXRm, C::Plain, "D"},
    {"fmv.x.d", kF7 | kRs2, f7(0x71) | f3(0) | 0x53, F::XF, C::Plain, "D"},
    {"fmv.d.x", kF7 | kRs2, f7(0x79) | f3(0) | 0x53, F::FX, C::Plain, "D"},
};

// RV64C. c.jal (RV32 only) is c.addiw here; c.flw/c.fsw/c.flwsp/c.fswsp
// (RV32 only) are c.ld/c.sd/c.ldsp/c.sdsp.
constexpr CompressedRow kCompressed[] = {
    // Quadrant 0
    {"c.unimp", 0xffff, 0x0000, Expansion::Unimp},
    {"c.addi4spn", 0xe003, 0x0000, Expansion::Addi4spn},
    {"c.fld", 0xe003, 0x2000, Expansion::Fld},
    {"c.lw", 0xe003, 0x4000, Expansion::Lw},
    {"c.ld", 0xe003, 0x6000, Expansion::Ld},
    {"c.fsd", 0xe003, 0xa000, Expansion::Fsd},
    {"c.sw", 0xe003, 0xc000, Expansion::Sw},
    {"c.sd", 0xe003, 0xe000, Expansion::Sd},
    // Quadrant 1
    {"c.nop", 0xffff, 0x0001, Expansion::Nop},
    {"c.addi", 0xe003, 0x0001, Expansion::Addi},
    {"c.addiw", 0xe003, 0x2001, Expansion::Addiw},
    {"c.li", 0xe003, 0x4001, Expansion::Li},
    {"c.addi16sp", 0xef83, 0x6101, Expansion::Addi16sp},
    {"c.lui", 0xe003, 0x6001, Expansion::Lui},
    {"c.srli", 0xec03, 0x8001, Expansion::Srli},
    {"c.srai", 0xec03, 0x8401, Expansion::Srai},
    {"c.andi", 0xec03, 0x8801, Expansion::Andi},
    {"c.sub", 0xfc63, 0x8c01, Expansion::Sub},
    {"c.xor", 0xfc63, 0x8c21, Expansion::Xor},
    {"c.or", 0xfc63, 0x8c41, Expansion::Or},
    {"c.and", 0xfc63, 0x8c61, Expansion::And},
    {"c.subw", 0xfc63, 0x9c01, Expansion::Subw},
    {"c.addw", 0xfc63, 0x9c21, Expansion::Addw},
    {"c.j", 0xe003, 0xa001, Expansion::J},
    {"c.beqz", 0xe003, 0xc001, Expansion::Beqz},
    {"c.bnez", 0xe003, 0xe001, Expansion::Bnez},
    // Quadrant 2
    {"c.slli", 0xe003, 0x0002, Expansion::Slli},
    {"c.fldsp", 0xe003, 0x2002, Expansion::Fldsp},
    {"c.lwsp", 0xe003, 0x4002, Expansion::Lwsp},
    {"c.ldsp", 0xe003, 0x6002, Expansion::Ldsp},
    {"c.jr", 0xf07f, 0x8002, Expansion::Jr},
    {"c.mv", 0xf003, 0x8002, Expansion::Mv},
    {"c.ebreak", 0xffff, 0x9002, Expansion::Ebreak},
    {"c.jalr", 0xf07f, 0x9002, Expansion::Jalr},
    {"c.add", 0xf003, 0x9002, Expansion::Add},
    {"c.fsdsp", 0xe003, 0xa002, Expansion::Fsdsp},
    {"c.swsp", 0xe003, 0xc002, Expansion::Swsp},
    {"c.sdsp", 0xe003, 0xe002, Expansion::Sdsp},
};

constexpr unsigned kSp = 2, kRa = 1;

}  // namespace

bool InsnRow::matches(uint32_t word) const {
  if ((word & mask) != value) return false;
  switch (constraint) {
    case Constraint::None: return true;
    case Constraint::Rs1EqRs2: return rs1(word) == rs2(word);
  }
  return false;
}

std::span<const InsnRow> insn_rows() { return kRows; }
std::span<const CompressedRow> compressed_rows() { return kCompressed; }

const InsnRow* classify(uint32_t word) {
  if ((word & 0x3) != 0x3 || (word & 0x1c) == 0x1c) return nullptr;  // not a 32-bit instruction
  const auto* row = std::find_if(std::begin(kRows), std::end(kRows), [&](const InsnRow& r) { return r.matches(word); });
  return row == std::end(kRows) ? nullptr : row;
}

const CompressedRow* classify_compressed(uint16_t parcel) {
  const auto* row = std::find_if(std::begin(kCompressed), std::end(kCompressed),
                                 [&](const CompressedRow& r) { return r.matches(parcel); });
  return row == std::end(kCompressed) ? nullptr : row;
}

std::optional<uint32_t> expand(const CompressedRow& row, uint16_t p) {
  const unsigned rd = c_rd(p), rs2 = c_rs2(p), rdp = c_rd_prime(p), rs1p = c_rs1_prime(p);
  switch (row.expansion) {
    case Expansion::Unimp: return 0xc0001073;  // "unimp", as objdump prints the all-zero parcel
    case Expansion::Addi4spn:
      if (c_imm_addi4spn(p) == 0) return std::nullopt;
      return encode_i(op::kOpImm, 0, rdp, kSp, c_imm_addi4spn(p));
    case Expansion::Fld: return encode_i(op::kLoadFp, 3, rdp, rs1p, c_uimm_d(p));
    case Expansion::Lw: return encode_i(op::kLoad, 2, rdp, rs1p, c_uimm_w(p));
    case Expansion::Ld: return encode_i(op::kLoad, 3, rdp, rs1p, c_uimm_d(p));
    case Expansion::Fsd: return encode_s(op::kStoreFp, 3, rs1p, rdp, c_uimm_d(p));
    case Expansion::Sw: return encode_s(op::kStore, 2, rs1p, rdp, c_uimm_w(p));
    case Expansion::Sd: return encode_s(op::kStore, 3, rs1p, rdp, c_uimm_d(p));
    case Expansion::Nop: return encode_i(op::kOpImm, 0, 0, 0, 0);
    case Expansion::Addi: return encode_i(op::kOpImm, 0, rd, rd, c_imm_ci(p));
    case Expansion::Addiw:
      if (rd == 0) return std::nullopt;
      return encode_i(op::kOpImm32, 0, rd, rd, c_imm_ci(p));
    case Expansion::Li: return encode_i(op::kOpImm, 0, rd, 0, c_imm_ci(p));
    case Expansion::Addi16sp:
      if (c_imm_addi16sp(p) == 0) return std::nullopt;
      return encode_i(op::kOpImm, 0, kSp, kSp, c_imm_addi16sp(p));
    case Expansion::Lui:
      if (c_imm_lui(p) == 0) return std::nullopt;
      return encode_u(op::kLui, rd, c_imm_lui(p));
    case Expansion::Srli: return encode_i(op::kOpImm, 5, rs1p, rs1p, c_shamt(p));
    case Expansion::Srai: return encode_i(op::kOpImm, 5, rs1p, rs1p, 0x400 | c_shamt(p));
    case Expansion::Andi: return encode_i(op::kOpImm, 7, rs1p, rs1p, c_imm_ci(p));
    case Expansion::Sub: return encode_r(op::kOp, 0, 0x20, rs1p, rs1p, rdp);
    case Expansion::Xor: return encode_r(op::kOp, 4, 0, rs1p, rs1p, rdp);
    case Expansion::Or: return encode_r(op::kOp, 6, 0, rs1p, rs1p, rdp);
    case Expansion::And: return encode_r(op::kOp, 7, 0, rs1p, rs1p, rdp);
    case Expansion::Subw: return encode_r(op::kOp32, 0, 0x20, rs1p, rs1p, rdp);
    case Expansion::Addw: return encode_r(op::kOp32, 0, 0, rs1p, rs1p, rdp);
    case Expansion::J: return encode_j(0, c_imm_j(p));
    case Expansion::Beqz: return encode_b(0, rs1p, 0, c_imm_b(p));
    case Expansion::Bnez: return encode_b(1, rs1p, 0, c_imm_b(p));
    case Expansion::Slli: return encode_i(op::kOpImm, 1, rd, rd, c_shamt(p));
    case Expansion::Fldsp: return encode_i(op::kLoadFp, 3, rd, kSp, c_uimm_ldsp(p));
    case Expansion::Lwsp:
      if (rd == 0) return std::nullopt;
      return encode_i(op::kLoad, 2, rd, kSp, c_uimm_lwsp(p));
    case Expansion::Ldsp:
      if (rd == 0) return std::nullopt;
      return encode_i(op::kLoad, 3, rd, kSp, c_uimm_ldsp(p));
    case Expansion::Jr:
      if (rd == 0) return std::nullopt;
      return encode_i(op::kJalr, 0, 0, rd, 0);
    // c.mv copies rs2 into rd; "addi rd, rs2, 0" is the same and prints as mv.
    case Expansion::Mv: return encode_i(op::kOpImm, 0, rd, rs2, 0);
    case Expansion::Ebreak: return 0x00100073;
    case Expansion::Jalr: return encode_i(op::kJalr, 0, kRa, rd, 0);
    case Expansion::Add: return encode_r(op::kOp, 0, 0, rd, rd, rs2);
    case Expansion::Fsdsp: return encode_s(op::kStoreFp, 3, kSp, rs2, c_uimm_sdsp(p));
    case Expansion::Swsp: return encode_s(op::kStore, 2, kSp, rs2, c_uimm_swsp(p));
    case Expansion::Sdsp: return encode_s(op::kStore, 3, kSp, rs2, c_uimm_sdsp(p));
  }
  return std::nullopt;
}

}  // namespace uptrace::arch::riscv64
