// The decoder, row by row: every row of both tables decodes from its
// golden bytes to its length, row, class and objdump-like text. The bytes
// were assembled by riscv64-linux-gnu-as (binutils 2.40, -march=rv64gc, and
// rv64gc_zba_zbb_zbs for the bit-manipulation rows) and every text was
// compared with riscv64-linux-gnu-objdump -d by riscv64-objdump-check
// (tests/cross/riscv64-objdump-check.sh); the few rows gas 2.40 cannot
// assemble (Zicond, pause) are encoded by hand from the ISA manual.
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "arch/riscv64/decoder.h"
#include "arch/riscv64/encoding.h"
#include "arch/riscv64/insn_table.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;

namespace {

using C = InsnClass;

struct Golden {
  uint64_t address;
  uint32_t raw;           // the instruction's parcels, as objdump prints them
  const char* name;       // the row: a compressed row's name for a 2-byte instruction
  const char* text;
  InsnClass cls;
};

// A 2-byte instruction is a raw value below 0x10000 whose low bits are not 11.
unsigned length_of(uint32_t raw) { return (raw & 3) == 3 ? 4 : 2; }

std::vector<uint8_t> bytes_of(uint32_t raw) {
  std::vector<uint8_t> out;
  for (unsigned i = 0; i < length_of(raw); ++i) out.push_back(static_cast<uint8_t>(raw >> (8 * i)));
  return out;
}

const Golden kGolden[] = {
    {0x10000, 0x00100073, "ebreak", "ebreak", C::Trap},
    {0x10004, 0xc0001073, "unimp", "unimp", C::Trap},
    {0x10008, 0x00000073, "ecall", "ecall", C::Refused},
    {0x1000c, 0x10200073, "sret", "sret", C::Refused},
    {0x10010, 0x30200073, "mret", "mret", C::Refused},
    {0x10014, 0x10500073, "wfi", "wfi", C::Refused},
    {0x10018, 0x12000073, "sfence.vma", "sfence.vma", C::Refused},
    {0x1001c, 0x12050073, "sfence.vma", "sfence.vma a0", C::Refused},
    {0x10020, 0x12b50073, "sfence.vma", "sfence.vma a0, a1", C::Refused},
    {0x10024, 0x00302573, "frcsr", "frcsr a0", C::Refused},
    {0x10028, 0x00359073, "fscsr", "fscsr a1", C::Refused},
    {0x1002c, 0x00359573, "fscsr", "fscsr a0, a1", C::Refused},
    {0x10030, 0x00202573, "frrm", "frrm a0", C::Refused},
    {0x10034, 0x00259073, "fsrm", "fsrm a1", C::Refused},
    {0x10038, 0x00259573, "fsrm", "fsrm a0, a1", C::Refused},
    {0x1003c, 0x0021d073, "fsrmi", "fsrmi zero, 3", C::Refused},
    {0x10040, 0x0021d573, "fsrmi", "fsrmi a0, 3", C::Refused},
    {0x10044, 0x00102573, "frflags", "frflags a0", C::Refused},
    {0x10048, 0x00159073, "fsflags", "fsflags a1", C::Refused},
    {0x1004c, 0x00159573, "fsflags", "fsflags a0, a1", C::Refused},
    {0x10050, 0x0012d073, "fsflagsi", "fsflagsi zero, 5", C::Refused},
    {0x10054, 0x0012d573, "fsflagsi", "fsflagsi a0, 5", C::Refused},
    {0x10058, 0xc0002573, "rdcycle", "rdcycle a0", C::Refused},
    {0x1005c, 0xc0102573, "rdtime", "rdtime a0", C::Refused},
    {0x10060, 0xc0202573, "rdinstret", "rdinstret a0", C::Refused},
    {0x10064, 0xc2002573, "csrr", "csrr a0, vl", C::Refused},
    {0x10068, 0x00359073, "fscsr", "fscsr a1", C::Refused},
    {0x1006c, 0x0015a073, "csrs", "csrs fflags, a1", C::Refused},
    {0x10070, 0x0015b073, "csrc", "csrc fflags, a1", C::Refused},
    {0x10074, 0x00215073, "fsrmi", "fsrmi zero, 2", C::Refused},
    {0x10078, 0x00186073, "csrsi", "csrsi fflags, 16", C::Refused},
    {0x1007c, 0x0010f073, "csrci", "csrci fflags, 1", C::Refused},
    {0x10080, 0x00259573, "fsrm", "fsrm a0, a1", C::Refused},
    {0x10084, 0x7c05a573, "csrrs", "csrrs a0, 0x7c0, a1", C::Refused},
    {0x10088, 0xc005b573, "csrrc", "csrrc a0, cycle, a1", C::Refused},
    {0x1008c, 0x0033d573, "csrrwi", "csrrwi a0, fcsr, 7", C::Refused},
    {0x10090, 0x0011e573, "csrrsi", "csrrsi a0, fflags, 3", C::Refused},
    {0x10094, 0x0020f573, "csrrci", "csrrci a0, frm, 1", C::Refused},
    {0x10098, 0x0000100f, "fence.i", "fence.i", C::Refused},
    {0x1009c, 0x8330000f, "fence.tso", "fence.tso", C::Plain},
    {0x100a0, 0x0ff0000f, "fence", "fence", C::Plain},
    {0x100a4, 0x0230000f, "fence", "fence r, rw", C::Plain},
    {0x100a8, 0x0400006f, "j", "j 0x100e8", C::Jal},
    {0x100ac, 0xf01ff0ef, "jal", "jal 0xffac", C::Jal},
    {0x100b0, 0x7fe002ef, "jal", "jal t0, 0x108ae", C::Jal},
    {0x100b4, 0x00008067, "ret", "ret", C::Jalr},
    {0x100b8, 0x000e0067, "jr", "jr t3", C::Jalr},
    {0x100bc, 0x000780e7, "jalr", "jalr a5", C::Jalr},
    {0x100c0, 0x00878067, "jr", "jr 8(a5)", C::Jalr},
    {0x100c4, 0xff0780e7, "jalr", "jalr -16(a5)", C::Jalr},
    {0x100c8, 0x000e0367, "jalr", "jalr t1, t3", C::Jalr},
    {0x100cc, 0x018e0367, "jalr", "jalr t1, 24(t3)", C::Jalr},
    {0x100d0, 0x00050863, "beqz", "beqz a0, 0x100e0", C::Branch},
    {0x100d4, 0xfe0598e3, "bnez", "bnez a1, 0x100c4", C::Branch},
    {0x100d8, 0x7e064fe3, "bltz", "bltz a2, 0x110d6", C::Branch},
    {0x100dc, 0x8006d063, "bgez", "bgez a3, 0xf0dc", C::Branch},
    {0x100e0, 0x00e04263, "bgtz", "bgtz a4, 0x100e4", C::Branch},
    {0x100e4, 0x00f05463, "blez", "blez a5, 0x100ec", C::Branch},
    {0x100e8, 0x00b50863, "beq", "beq a0, a1, 0x100f8", C::Branch},
    {0x100ec, 0xfe9410e3, "bne", "bne s0, s1, 0x100cc", C::Branch},
    {0x100f0, 0x0462c063, "blt", "blt t0, t1, 0x10130", C::Branch},
    {0x100f4, 0x09185063, "bge", "bge a6, a7, 0x10174", C::Branch},
    {0x100f8, 0xff396ee3, "bltu", "bltu s2, s3, 0x100f4", C::Branch},
    {0x100fc, 0x01bd7363, "bgeu", "bgeu s10, s11, 0x10102", C::Branch},
    {0x10100, 0x00130397, "auipc", "auipc t2, 0x130", C::Auipc},
    {0x10104, 0xfffff517, "auipc", "auipc a0, 0xfffff", C::Auipc},
    {0x10108, 0x000207b7, "lui", "lui a5, 0x20", C::Plain},
    {0x1010c, 0x800007b7, "lui", "lui a5, 0x80000", C::Plain},
    {0x10110, 0x00000013, "nop", "nop", C::Skip},
    {0x10114, 0x80000513, "li", "li a0, -2048", C::Plain},
    {0x10118, 0x00058493, "mv", "mv s1, a1", C::Plain},
    {0x1011c, 0xff010113, "addi", "addi sp, sp, -16", C::Plain},
    {0x10120, 0x00072893, "slti", "slti a7, a4, 0", C::Plain},
    {0x10124, 0x00183813, "seqz", "seqz a6, a6", C::Plain},
    {0x10128, 0x08053513, "sltiu", "sltiu a0, a0, 128", C::Plain},
    {0x1012c, 0xfffd4d13, "not", "not s10, s10", C::Plain},
    {0x10130, 0x7ff5c513, "xori", "xori a0, a1, 2047", C::Plain},
    {0x10134, 0xfff5e513, "ori", "ori a0, a1, -1", C::Plain},
    {0x10138, 0x0ff7f793, "zext.b", "zext.b a5, a5", C::Plain},
    {0x1013c, 0x00f5f513, "andi", "andi a0, a1, 15", C::Plain},
    {0x10140, 0x020b1713, "slli", "slli a4, s6, 0x20", C::Plain},
    {0x10144, 0x003b5b13, "srli", "srli s6, s6, 0x3", C::Plain},
    {0x10148, 0x43f7d593, "srai", "srai a1, a5, 0x3f", C::Plain},
    {0x1014c, 0x000b0b1b, "sext.w", "sext.w s6, s6", C::Plain},
    {0x10150, 0xfff7879b, "addiw", "addiw a5, a5, -1", C::Plain},
    {0x10154, 0x0019999b, "slliw", "slliw s3, s3, 0x1", C::Plain},
    {0x10158, 0x0085569b, "srliw", "srliw a3, a0, 0x8", C::Plain},
    {0x1015c, 0x4187d79b, "sraiw", "sraiw a5, a5, 0x18", C::Plain},
    {0x10160, 0x40b00533, "neg", "neg a0, a1", C::Plain},
    {0x10164, 0x00b03533, "snez", "snez a0, a1", C::Plain},
    {0x10168, 0x0005a533, "sltz", "sltz a0, a1", C::Plain},
    {0x1016c, 0x00b02533, "sgtz", "sgtz a0, a1", C::Plain},
    {0x10170, 0x00c58533, "add", "add a0, a1, a2", C::Plain},
    {0x10174, 0x41c30333, "sub", "sub t1, t1, t3", C::Plain},
    {0x10178, 0x00c59533, "sll", "sll a0, a1, a2", C::Plain},
    {0x1017c, 0x00a7a533, "slt", "slt a0, a5, a0", C::Plain},
    {0x10180, 0x00c7b633, "sltu", "sltu a2, a5, a2", C::Plain},
    {0x10184, 0x00c5c533, "xor", "xor a0, a1, a2", C::Plain},
    {0x10188, 0x00c5d533, "srl", "srl a0, a1, a2", C::Plain},
    {0x1018c, 0x40c5d533, "sra", "sra a0, a1, a2", C::Plain},
    {0x10190, 0x00c5e533, "or", "or a0, a1, a2", C::Plain},
    {0x10194, 0x00c5f533, "and", "and a0, a1, a2", C::Plain},
    {0x10198, 0x02d70733, "mul", "mul a4, a4, a3", C::Plain},
    {0x1019c, 0x02f517b3, "mulh", "mulh a5, a0, a5", C::Plain},
    {0x101a0, 0x02c5a533, "mulhsu", "mulhsu a0, a1, a2", C::Plain},
    {0x101a4, 0x02c6b6b3, "mulhu", "mulhu a3, a3, a2", C::Plain},
    {0x101a8, 0x02b54533, "div", "div a0, a0, a1", C::Plain},
    {0x101ac, 0x02895933, "divu", "divu s2, s2, s0", C::Plain},
    {0x101b0, 0x02b7e5b3, "rem", "rem a1, a5, a1", C::Plain},
    {0x101b4, 0x02ed7733, "remu", "remu a4, s10, a4", C::Plain},
    {0x101b8, 0x40b0053b, "negw", "negw a0, a1", C::Plain},
    {0x101bc, 0x00c5853b, "addw", "addw a0, a1, a2", C::Plain},
    {0x101c0, 0x40f9093b, "subw", "subw s2, s2, a5", C::Plain},
    {0x101c4, 0x00c5953b, "sllw", "sllw a0, a1, a2", C::Plain},
    {0x101c8, 0x00c5d53b, "srlw", "srlw a0, a1, a2", C::Plain},
    {0x101cc, 0x40c5d53b, "sraw", "sraw a0, a1, a2", C::Plain},
    {0x101d0, 0x02c587bb, "mulw", "mulw a5, a1, a2", C::Plain},
    {0x101d4, 0x02b547bb, "divw", "divw a5, a0, a1", C::Plain},
    {0x101d8, 0x02e6d6bb, "divuw", "divuw a3, a3, a4", C::Plain},
    {0x101dc, 0x02b5653b, "remw", "remw a0, a0, a1", C::Plain},
    {0x101e0, 0x0267773b, "remuw", "remuw a4, a4, t1", C::Plain},
    {0x101e4, 0x01878603, "lb", "lb a2, 24(a5)", C::Plain},
    {0x101e8, 0xcd869683, "lh", "lh a3, -808(a3)", C::Plain},
    {0x101ec, 0x0c072683, "lw", "lw a3, 192(a4)", C::Plain},
    {0x101f0, 0x9083be03, "ld", "ld t3, -1784(t2)", C::Plain},
    {0x101f4, 0x0005c783, "lbu", "lbu a5, 0(a1)", C::Plain},
    {0x101f8, 0x0008d883, "lhu", "lhu a7, 0(a7)", C::Plain},
    {0x101fc, 0x00896703, "lwu", "lwu a4, 8(s2)", C::Plain},
    {0x10200, 0x00050123, "sb", "sb zero, 2(a0)", C::Plain},
    {0x10204, 0x00051423, "sh", "sh zero, 8(a0)", C::Plain},
    {0x10208, 0xfef72e23, "sw", "sw a5, -4(a4)", C::Plain},
    {0x1020c, 0x7e113c23, "sd", "sd ra, 2040(sp)", C::Plain},
    {0x10210, 0xd047a407, "flw", "flw fs0, -764(a5)", C::Plain},
    {0x10214, 0xee27b407, "fld", "fld fs0, -286(a5)", C::Plain},
    {0x10218, 0x00f52027, "fsw", "fsw fa5, 0(a0)", C::Plain},
    {0x1021c, 0x00913827, "fsd", "fsd fs1, 16(sp)", C::Plain},
    {0x10220, 0x100e262f, "lr.w", "lr.w a2, (t3)", C::LoadReserved},
    {0x10224, 0x140627af, "lr.w", "lr.w.aq a5, (a2)", C::LoadReserved},
    {0x10228, 0x18e626af, "sc.w", "sc.w a3, a4, (a2)", C::StoreConditional},
    {0x1022c, 0x1bee25af, "sc.w", "sc.w.rl a1, t5, (t3)", C::StoreConditional},
    {0x10230, 0x100536af, "lr.d", "lr.d a3, (a0)", C::LoadReserved},
    {0x10234, 0x1608362f, "lr.d", "lr.d.aqrl a2, (a6)", C::LoadReserved},
    {0x10238, 0x18a835af, "sc.d", "sc.d a1, a0, (a6)", C::StoreConditional},
    {0x1023c, 0x1cc5382f, "sc.d", "sc.d.aq a6, a2, (a0)", C::StoreConditional},
    {0x10240, 0x09d72eaf, "amoswap.w", "amoswap.w t4, t4, (a4)", C::Plain},
    {0x10244, 0x07f7a32f, "amoadd.w", "amoadd.w.aqrl t1, t6, (a5)", C::Plain},
    {0x10248, 0x20b6252f, "amoxor.w", "amoxor.w a0, a1, (a2)", C::Plain},
    {0x1024c, 0x62c726af, "amoand.w", "amoand.w.rl a3, a2, (a4)", C::Plain},
    {0x10250, 0x44e7a62f, "amoor.w", "amoor.w.aq a2, a4, (a5)", C::Plain},
    {0x10254, 0x80b6252f, "amomin.w", "amomin.w a0, a1, (a2)", C::Plain},
    {0x10258, 0xa0b6252f, "amomax.w", "amomax.w a0, a1, (a2)", C::Plain},
    {0x1025c, 0xc0b6252f, "amominu.w", "amominu.w a0, a1, (a2)", C::Plain},
    {0x10260, 0xe4e6a72f, "amomaxu.w", "amomaxu.w.aq a4, a4, (a3)", C::Plain},
    {0x10264, 0x0ca7b52f, "amoswap.d", "amoswap.d.aq a0, a0, (a5)", C::Plain},
    {0x10268, 0x00f7302f, "amoadd.d", "amoadd.d zero, a5, (a4)", C::Plain},
    {0x1026c, 0x22b7b6af, "amoxor.d", "amoxor.d.rl a3, a1, (a5)", C::Plain},
    {0x10270, 0x60b6352f, "amoand.d", "amoand.d a0, a1, (a2)", C::Plain},
    {0x10274, 0x40b6352f, "amoor.d", "amoor.d a0, a1, (a2)", C::Plain},
    {0x10278, 0x80b6352f, "amomin.d", "amomin.d a0, a1, (a2)", C::Plain},
    {0x1027c, 0xa0b6352f, "amomax.d", "amomax.d a0, a1, (a2)", C::Plain},
    {0x10280, 0xc0b6352f, "amominu.d", "amominu.d a0, a1, (a2)", C::Plain},
    {0x10284, 0xe4e7b72f, "amomaxu.d", "amomaxu.d.aq a4, a4, (a5)", C::Plain},
    {0x10288, 0x68c5f543, "fmadd.s", "fmadd.s fa0, fa1, fa2, fa3", C::Plain},
    {0x1028c, 0x68c59547, "fmsub.s", "fmsub.s fa0, fa1, fa2, fa3, rtz", C::Plain},
    {0x10290, 0x68c5f54b, "fnmsub.s", "fnmsub.s fa0, fa1, fa2, fa3", C::Plain},
    {0x10294, 0x68c5f54f, "fnmadd.s", "fnmadd.s fa0, fa1, fa2, fa3", C::Plain},
    {0x10298, 0x6ac58543, "fmadd.d", "fmadd.d fa0, fa1, fa2, fa3, rne", C::Plain},
    {0x1029c, 0x6ac5f547, "fmsub.d", "fmsub.d fa0, fa1, fa2, fa3", C::Plain},
    {0x102a0, 0x1a20f04b, "fnmsub.d", "fnmsub.d ft0, ft1, ft2, ft3", C::Plain},
    {0x102a4, 0x9b24c44f, "fnmadd.d", "fnmadd.d fs0, fs1, fs2, fs3, rmm", C::Plain},
    {0x102a8, 0x00f7f553, "fadd.s", "fadd.s fa0, fa5, fa5", C::Plain},
    {0x102ac, 0x08f53553, "fsub.s", "fsub.s fa0, fa0, fa5, rup", C::Plain},
    {0x102b0, 0x10f577d3, "fmul.s", "fmul.s fa5, fa0, fa5", C::Plain},
    {0x102b4, 0x18d7f7d3, "fdiv.s", "fdiv.s fa5, fa5, fa3", C::Plain},
    {0x102b8, 0x5805f553, "fsqrt.s", "fsqrt.s fa0, fa1", C::Plain},
    {0x102bc, 0x20a507d3, "fmv.s", "fmv.s fa5, fa0", C::Plain},
    {0x102c0, 0x20a51553, "fneg.s", "fneg.s fa0, fa0", C::Plain},
    {0x102c4, 0x20a52753, "fabs.s", "fabs.s fa4, fa0", C::Plain},
    {0x102c8, 0x20b50553, "fsgnj.s", "fsgnj.s fa0, fa0, fa1", C::Plain},
    {0x102cc, 0x20c59553, "fsgnjn.s", "fsgnjn.s fa0, fa1, fa2", C::Plain},
    {0x102d0, 0x20c5a553, "fsgnjx.s", "fsgnjx.s fa0, fa1, fa2", C::Plain},
    {0x102d4, 0x28c58553, "fmin.s", "fmin.s fa0, fa1, fa2", C::Plain},
    {0x102d8, 0x28c59553, "fmax.s", "fmax.s fa0, fa1, fa2", C::Plain},
    {0x102dc, 0xc00797d3, "fcvt.w.s", "fcvt.w.s a5, fa5, rtz", C::Plain},
    {0x102e0, 0xc017f7d3, "fcvt.wu.s", "fcvt.wu.s a5, fa5", C::Plain},
    {0x102e4, 0xc027a7d3, "fcvt.l.s", "fcvt.l.s a5, fa5, rdn", C::Plain},
    {0x102e8, 0xc037f7d3, "fcvt.lu.s", "fcvt.lu.s a5, fa5", C::Plain},
    {0x102ec, 0xe00507d3, "fmv.x.w", "fmv.x.w a5, fa0", C::Plain},
    {0x102f0, 0xe0051553, "fclass.s", "fclass.s a0, fa0", C::Plain},
    {0x102f4, 0xa09527d3, "feq.s", "feq.s a5, fa0, fs1", C::Plain},
    {0x102f8, 0xa09517d3, "flt.s", "flt.s a5, fa0, fs1", C::Plain},
    {0x102fc, 0xa08707d3, "fle.s", "fle.s a5, fa4, fs0", C::Plain},
    {0x10300, 0xd00a76d3, "fcvt.s.w", "fcvt.s.w fa3, s4", C::Plain},
    {0x10304, 0xd01a76d3, "fcvt.s.wu", "fcvt.s.wu fa3, s4", C::Plain},
    {0x10308, 0xd02a16d3, "fcvt.s.l", "fcvt.s.l fa3, s4, rtz", C::Plain},
    {0x1030c, 0xd039f7d3, "fcvt.s.lu", "fcvt.s.lu fa5, s3", C::Plain},
    {0x10310, 0xf00004d3, "fmv.w.x", "fmv.w.x fs1, zero", C::Plain},
    {0x10314, 0x02f7f553, "fadd.d", "fadd.d fa0, fa5, fa5", C::Plain},
    {0x10318, 0x0ae577d3, "fsub.d", "fsub.d fa5, fa0, fa4", C::Plain},
    {0x1031c, 0x12f577d3, "fmul.d", "fmul.d fa5, fa0, fa5", C::Plain},
    {0x10320, 0x1af77753, "fdiv.d", "fdiv.d fa4, fa4, fa5", C::Plain},
    {0x10324, 0x5a059553, "fsqrt.d", "fsqrt.d fa0, fa1, rtz", C::Plain},
    {0x10328, 0x22a507d3, "fmv.d", "fmv.d fa5, fa0", C::Plain},
    {0x1032c, 0x22f797d3, "fneg.d", "fneg.d fa5, fa5", C::Plain},
    {0x10330, 0x22a52753, "fabs.d", "fabs.d fa4, fa0", C::Plain},
    {0x10334, 0x22b50553, "fsgnj.d", "fsgnj.d fa0, fa0, fa1", C::Plain},
    {0x10338, 0x22c59553, "fsgnjn.d", "fsgnjn.d fa0, fa1, fa2", C::Plain},
    {0x1033c, 0x22c5a553, "fsgnjx.d", "fsgnjx.d fa0, fa1, fa2", C::Plain},
    {0x10340, 0x2ac58553, "fmin.d", "fmin.d fa0, fa1, fa2", C::Plain},
    {0x10344, 0x2ac59553, "fmax.d", "fmax.d fa0, fa1, fa2", C::Plain},
    {0x10348, 0x4015f553, "fcvt.s.d", "fcvt.s.d fa0, fa1", C::Plain},
    {0x1034c, 0x420507d3, "fcvt.d.s", "fcvt.d.s fa5, fa0", C::Plain},
    {0x10350, 0xa29527d3, "feq.d", "feq.d a5, fa0, fs1", C::Plain},
    {0x10354, 0xa2e79653, "flt.d", "flt.d a2, fa5, fa4", C::Plain},
    {0x10358, 0xa28707d3, "fle.d", "fle.d a5, fa4, fs0", C::Plain},
    {0x1035c, 0xe2051553, "fclass.d", "fclass.d a0, fa0", C::Plain},
    {0x10360, 0xc2051553, "fcvt.w.d", "fcvt.w.d a0, fa0, rtz", C::Plain},
    {0x10364, 0xc2157553, "fcvt.wu.d", "fcvt.wu.d a0, fa0", C::Plain},
    {0x10368, 0xc2257553, "fcvt.l.d", "fcvt.l.d a0, fa0", C::Plain},
    {0x1036c, 0xc2353553, "fcvt.lu.d", "fcvt.lu.d a0, fa0, rup", C::Plain},
    {0x10370, 0xd20a87d3, "fcvt.d.w", "fcvt.d.w fa5, s5", C::Plain},
    {0x10374, 0xd21a87d3, "fcvt.d.wu", "fcvt.d.wu fa5, s5", C::Plain},
    {0x10378, 0xd22af7d3, "fcvt.d.l", "fcvt.d.l fa5, s5", C::Plain},
    {0x1037c, 0xd235f7d3, "fcvt.d.lu", "fcvt.d.lu fa5, a1", C::Plain},
    {0x10380, 0xe20507d3, "fmv.x.d", "fmv.x.d a5, fa0", C::Plain},
    {0x10384, 0xf20004d3, "fmv.d.x", "fmv.d.x fs1, zero", C::Plain},
    {0x10388, 0x0808, "c.addi4spn", "addi a0, sp, 16", C::Plain},
    {0x1038a, 0x251c, "c.fld", "fld fa5, 8(a0)", C::Plain},
    {0x1038c, 0x435c, "c.lw", "lw a5, 4(a4)", C::Plain},
    {0x1038e, 0x7fe8, "c.ld", "ld a0, 248(a5)", C::Plain},
    {0x10390, 0xa980, "c.fsd", "fsd fs0, 16(a1)", C::Plain},
    {0x10392, 0xc31c, "c.sw", "sw a5, 0(a4)", C::Plain},
    {0x10394, 0xe40c, "c.sd", "sd a1, 8(s0)", C::Plain},
    {0x10396, 0x0001, "c.nop", "nop", C::Skip},
    {0x10398, 0x157d, "c.addi", "addi a0, a0, -1", C::Plain},
    {0x1039a, 0x2b01, "c.addiw", "sext.w s6, s6", C::Plain},
    {0x1039c, 0x4681, "c.li", "li a3, 0", C::Plain},
    {0x1039e, 0x713d, "c.addi16sp", "addi sp, sp, -32", C::Plain},
    {0x103a0, 0x7781, "c.lui", "lui a5, 0xfffe0", C::Plain},
    {0x103a2, 0x917d, "c.srli", "srli a0, a0, 0x3f", C::Plain},
    {0x103a4, 0x878d, "c.srai", "srai a5, a5, 0x3", C::Plain},
    {0x103a6, 0x893d, "c.andi", "andi a0, a0, 15", C::Plain},
    {0x103a8, 0x8d0d, "c.sub", "sub a0, a0, a1", C::Plain},
    {0x103aa, 0x8fb9, "c.xor", "xor a5, a5, a4", C::Plain},
    {0x103ac, 0x8d4d, "c.or", "or a0, a0, a1", C::Plain},
    {0x103ae, 0x8d6d, "c.and", "and a0, a0, a1", C::Plain},
    {0x103b0, 0x9d0d, "c.subw", "subw a0, a0, a1", C::Plain},
    {0x103b2, 0x9fb5, "c.addw", "addw a5, a5, a3", C::Plain},
    {0x103b4, 0xaffd, "c.j", "j 0x10bb2", C::Jal},
    {0x103b6, 0xd181, "c.beqz", "beqz a1, 0x102b6", C::Branch},
    {0x103b8, 0xeffd, "c.bnez", "bnez a5, 0x104b6", C::Branch},
    {0x103ba, 0x050a, "c.slli", "slli a0, a0, 0x2", C::Plain},
    {0x103bc, 0x2462, "c.fldsp", "fld fs0, 24(sp)", C::Plain},
    {0x103be, 0x4532, "c.lwsp", "lw a0, 12(sp)", C::Plain},
    {0x103c0, 0x70fe, "c.ldsp", "ld ra, 504(sp)", C::Plain},
    {0x103c2, 0x8e02, "c.jr", "jr t3", C::Jalr},
    {0x103c4, 0x8082, "c.jr", "ret", C::Jalr},
    {0x103c6, 0x84ae, "c.mv", "mv s1, a1", C::Plain},
    {0x103c8, 0x9002, "c.ebreak", "ebreak", C::Trap},
    {0x103ca, 0x9782, "c.jalr", "jalr a5", C::Jalr},
    {0x103cc, 0x952e, "c.add", "add a0, a0, a1", C::Plain},
    {0x103ce, 0xa422, "c.fsdsp", "fsd fs0, 8(sp)", C::Plain},
    {0x103d0, 0xdfbe, "c.swsp", "sw a5, 252(sp)", C::Plain},
    {0x103d2, 0xe406, "c.sdsp", "sd ra, 8(sp)", C::Plain},
    {0x20000, 0x20c5a533, "sh1add", "sh1add a0, a1, a2", C::Plain},
    {0x20004, 0x20c5c533, "sh2add", "sh2add a0, a1, a2", C::Plain},
    {0x20008, 0x207362b3, "sh3add", "sh3add t0, t1, t2", C::Plain},
    {0x2000c, 0x08c5853b, "add.uw", "add.uw a0, a1, a2", C::Plain},
    {0x20010, 0x0805853b, "zext.w", "zext.w a0, a1", C::Plain},
    {0x20014, 0x20c5a53b, "sh1add.uw", "sh1add.uw a0, a1, a2", C::Plain},
    {0x20018, 0x2124c43b, "sh2add.uw", "sh2add.uw s0, s1, s2", C::Plain},
    {0x2001c, 0x20c5e53b, "sh3add.uw", "sh3add.uw a0, a1, a2", C::Plain},
    {0x20020, 0x0a15951b, "slli.uw", "slli.uw a0, a1, 0x21", C::Plain},
    {0x20024, 0x0805951b, "slli.uw", "slli.uw a0, a1, 0x0", C::Plain},
    {0x20028, 0x40c5f533, "andn", "andn a0, a1, a2", C::Plain},
    {0x2002c, 0x40c5e533, "orn", "orn a0, a1, a2", C::Plain},
    {0x20030, 0x40c5c533, "xnor", "xnor a0, a1, a2", C::Plain},
    {0x20034, 0x60059513, "clz", "clz a0, a1", C::Plain},
    {0x20038, 0x60159513, "ctz", "ctz a0, a1", C::Plain},
    {0x2003c, 0x60259513, "cpop", "cpop a0, a1", C::Plain},
    {0x20040, 0x6005951b, "clzw", "clzw a0, a1", C::Plain},
    {0x20044, 0x6015951b, "ctzw", "ctzw a0, a1", C::Plain},
    {0x20048, 0x6025951b, "cpopw", "cpopw a0, a1", C::Plain},
    {0x2004c, 0x0ac5e533, "max", "max a0, a1, a2", C::Plain},
    {0x20050, 0x0ac5f533, "maxu", "maxu a0, a1, a2", C::Plain},
    {0x20054, 0x0ac5c533, "min", "min a0, a1, a2", C::Plain},
    {0x20058, 0x0ac5d533, "minu", "minu a0, a1, a2", C::Plain},
    {0x2005c, 0x60459513, "sext.b", "sext.b a0, a1", C::Plain},
    {0x20060, 0x60559513, "sext.h", "sext.h a0, a1", C::Plain},
    {0x20064, 0x0805c53b, "zext.h", "zext.h a0, a1", C::Plain},
    {0x20068, 0x60c59533, "rol", "rol a0, a1, a2", C::Plain},
    {0x2006c, 0x60c5953b, "rolw", "rolw a0, a1, a2", C::Plain},
    {0x20070, 0x60c5d533, "ror", "ror a0, a1, a2", C::Plain},
    {0x20074, 0x60c5d53b, "rorw", "rorw a0, a1, a2", C::Plain},
    {0x20078, 0x63f5d513, "rori", "rori a0, a1, 0x3f", C::Plain},
    {0x2007c, 0x61f5d51b, "roriw", "roriw a0, a1, 0x1f", C::Plain},
    {0x20080, 0x2875d513, "orc.b", "orc.b a0, a1", C::Plain},
    {0x20084, 0x6b85d513, "rev8", "rev8 a0, a1", C::Plain},
    {0x20088, 0x48c59533, "bclr", "bclr a0, a1, a2", C::Plain},
    {0x2008c, 0x4bf59513, "bclri", "bclri a0, a1, 0x3f", C::Plain},
    {0x20090, 0x48c5d533, "bext", "bext a0, a1, a2", C::Plain},
    {0x20094, 0x4855d513, "bexti", "bexti a0, a1, 0x5", C::Plain},
    {0x20098, 0x68c59533, "binv", "binv a0, a1, a2", C::Plain},
    {0x2009c, 0x6a859513, "binvi", "binvi a0, a1, 0x28", C::Plain},
    {0x200a0, 0x28c59533, "bset", "bset a0, a1, a2", C::Plain},
    {0x200a4, 0x28159513, "bseti", "bseti a0, a1, 0x1", C::Plain},
    // Encoded by hand: Zicond (binutils 2.41) and pause (Zihintpause: fence w, 0).
    {0x30000, 0x0ec5d533, "czero.eqz", "czero.eqz a0, a1, a2", C::Plain},
    {0x30004, 0x0e7372b3, "czero.nez", "czero.nez t0, t1, t2", C::Plain},
    {0x30008, 0x0100000f, "pause", "pause", C::Plain},
    // CSRs the floating-point aliases do not cover (0x7c0 is a custom one).
    {0x3000c, 0x7c059073, "csrw", "csrw 0x7c0, a1", C::Refused},
    {0x30010, 0x7c01d073, "csrwi", "csrwi 0x7c0, 3", C::Refused},
    {0x30014, 0x7c059573, "csrrw", "csrrw a0, 0x7c0, a1", C::Refused},
    // The all-zero parcel (objdump's "unimp"), which gas emits only as data.
    {0x30018, 0x0000, "c.unimp", "unimp", C::Trap},
};

}  // namespace

TEST_CASE("riscv64 decode: every golden instruction, its length, row, class and text", "[arch][riscv64]") {
  for (const Golden& g : kGolden) {
    INFO(std::hex << g.raw << " " << g.text);
    const auto bytes = bytes_of(g.raw);
    const auto d = decode_one(bytes, RuntimeAddr(g.address));
    REQUIRE(d.has_value());
    REQUIRE(d->known());
    CHECK(d->insn.address == RuntimeAddr(g.address));
    CHECK(d->insn.length == bytes.size());
    CHECK(std::vector<uint8_t>(d->insn.code().begin(), d->insn.code().end()) == bytes);
    CHECK(d->name() == g.name);
    CHECK(d->insn.text == g.text);
    CHECK(d->row->cls == g.cls);
    CHECK((d->compressed != nullptr) == (bytes.size() == 2));
  }
}

TEST_CASE("riscv64 decode: every row of both tables has a golden instruction", "[arch][riscv64]") {
  std::set<std::string> rows, compressed;
  for (const Golden& g : kGolden) {
    const auto d = decode_one(bytes_of(g.raw), RuntimeAddr(g.address));
    REQUIRE(d.has_value());
    REQUIRE(d->known());
    rows.insert(std::string(d->row->name) + "/" + std::to_string(static_cast<int>(d->row->format)));
    if (d->compressed) compressed.insert(std::string(d->compressed->name));
  }
  for (const InsnRow& row : insn_rows()) {
    INFO(row.name << " (format " << static_cast<int>(row.format) << ")");
    CHECK(rows.count(std::string(row.name) + "/" + std::to_string(static_cast<int>(row.format))) == 1);
  }
  for (const CompressedRow& row : compressed_rows()) {
    INFO(row.name);
    CHECK(compressed.count(std::string(row.name)) == 1);
  }
}

TEST_CASE("riscv64 decode: the first parcel tells the length", "[arch][riscv64]") {
  CHECK(insn_length(0x0000) == 2u);
  CHECK(insn_length(0x8082) == 2u);  // ret (c.jr ra)
  CHECK(insn_length(0x9002) == 2u);  // c.ebreak
  CHECK(insn_length(0x0073) == 4u);  // ecall's low parcel
  CHECK(insn_length(0x0313) == 4u);
  CHECK(insn_length(0x001f) == 6u);  // xxxxxxxxxx011111
  CHECK(insn_length(0x003f) == 8u);  // xxxxxxxxx0111111
  CHECK_FALSE(insn_length(0x007f).has_value());  // 80 bits and up: reserved
  CHECK_FALSE(insn_length(0xffff).has_value());
}

TEST_CASE("riscv64 decode: unknown instructions keep their length and are listed", "[arch][riscv64]") {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* text;
  };
  const Case cases[] = {
      {{0x04, 0x00}, ".2byte 0x4"},              // quadrant 0, funct3 000 with a zero immediate: reserved
      {{0x01, 0x61}, ".2byte 0x6101"},           // c.addi16sp sp, 0: reserved (objdump 2.40 says addi sp,sp,0)
      {{0x02, 0x40}, ".2byte 0x4002"},           // c.lwsp zero: reserved
      {{0x02, 0x80}, ".2byte 0x8002"},           // c.jr zero: reserved
      {{0x01, 0x20}, ".2byte 0x2001"},           // c.addiw zero: reserved (c.jal on RV32)
      {{0x01, 0x60}, ".2byte 0x6001"},           // c.lui zero, 0: reserved
      {{0x00, 0x80}, ".2byte 0x8000"},           // quadrant 0, funct3 100: reserved (Zcb)
      {{0x57, 0x00, 0x00, 0x00}, ".4byte 0x57"},        // OP-V: the vector extension is not decoded
      {{0x0f, 0x10, 0x00, 0x10}, ".4byte 0x1000100f"},  // fence.i with its reserved immediate set
      {{0x8f, 0x00, 0x00, 0x00}, ".4byte 0x8f"},        // fence with rd set (reserved)
      {{0x1f, 0x00, 0x00, 0x00, 0x00, 0x00}, ".insn 6, 0x1f"},
      {{0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, ".insn 8, 0x3f"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const auto d = decode_one(c.bytes, RuntimeAddr(0x1000));
    REQUIRE(d.has_value());
    CHECK_FALSE(d->known());
    CHECK(d->insn.length == c.bytes.size());
    CHECK(d->insn.text == c.text);
    CHECK(d->name() == ".insn");
  }
}

TEST_CASE("riscv64 decode: compressed HINTs print as objdump prints them", "[arch][riscv64]") {
  struct Case {
    uint16_t parcel;
    const char* text;
  };
  const Case cases[] = {
      {0x0005, "c.nop 1"},          {0x1001, "c.nop -32"},       {0x1002, "c.slli zero, 0x20"}, {0x0002, "c.slli64 zero"},
      {0x0502, "c.slli64 a0"},      {0x8001, "c.srli64 s0"},     {0x8401, "c.srai64 s0"},       {0x4001, "c.li zero, 0"},
      {0x5005, "c.li zero, -31"},   {0x7005, "c.lui zero, 0xfffe1"}, {0x802e, "c.mv zero, a1"},  {0x902e, "c.add zero, a1"},
      {0x0501, "addi a0, a0, 0"},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.parcel << " " << c.text);
    const uint8_t bytes[] = {static_cast<uint8_t>(c.parcel), static_cast<uint8_t>(c.parcel >> 8)};
    const auto d = decode_one(bytes, RuntimeAddr(0x1000));
    REQUIRE(d.has_value());
    REQUIRE(d->known());
    CHECK(d->insn.text == c.text);
    CHECK(d->insn.length == 2);
    // No architectural effect: stepped like any other, or (c.li zero, 0, which
    // stands for nop) emulated as nothing.
    CHECK((d->row->cls == InsnClass::Plain || d->row->cls == InsnClass::Skip));
  }
}

TEST_CASE("riscv64 decode: branch and jump offsets at the ends of their ranges", "[arch][riscv64]") {
  struct Case {
    uint32_t raw;
    uint64_t address;
    const char* text;
  };
  const Case cases[] = {
      {0x7e000fe3, 0x10000, "beqz zero, 0x10ffe"},  // beq zero, zero, +4094
      {0x80000063, 0x10000, "beqz zero, 0xf000"},   // -4096
      {0x7ffff06f, 0x100000, "j 0x1ffffe"},         // +1 MiB - 2
      {0x8000006f, 0x100000, "j 0x0"},              // -1 MiB
      {0x00000063, 0x10000, "beqz zero, 0x10000"},  // to itself
      {0xaffd, 0x10000, "j 0x107fe"},               // c.j +2046
      {0xb001, 0x10000, "j 0xf800"},                // c.j -2048
      {0xeffd, 0x10000, "bnez a5, 0x100fe"},        // c.bnez +254
      {0xf001, 0x10000, "bnez s0, 0xff00"},         // c.bnez -256
      {0xfffff517, 0x10000, "auipc a0, 0xfffff"},
      {0x800002b7, 0x10000, "lui t0, 0x80000"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const auto d = decode_one(bytes_of(c.raw), RuntimeAddr(c.address));
    REQUIRE(d.has_value());
    CHECK(d->insn.text == c.text);
  }
  // The immediates themselves.
  CHECK(imm_b(0x7e000fe3) == 4094);
  CHECK(imm_b(0x80000063) == -4096);
  CHECK(imm_j(0x7ffff06f) == 1048574);
  CHECK(imm_j(0x8000006f) == -1048576);
  CHECK(c_imm_j(0xaffd) == 2046);
  CHECK(c_imm_j(0xb001) == -2048);
  CHECK(c_imm_b(0xeffd) == 254);
  CHECK(c_imm_b(0xf001) == -256);
  CHECK(imm_u(0xfffff517) == -4096);
  CHECK(imm_u(0x800002b7) == -2147483648LL);
  CHECK(imm_i(0x80000013) == -2048);
  CHECK(imm_s(0xfe000fa3) == -1);
}

TEST_CASE("riscv64 decode: linear decoding mixes both lengths and stops where the code ends", "[arch][riscv64]") {
  // +0  1141      addi sp, sp, -16
  // +2  e406      sd ra, 8(sp)
  // +4  00000097  auipc ra, 0x0
  // +8  000080e7  jalr ra      (jalr ra, 0(ra))
  // +c  60a2      ld ra, 8(sp)
  // +e  0141      addi sp, sp, 16
  // +10 8082      ret
  // +12 13        half of a 4-byte instruction: not decoded
  const std::vector<uint8_t> code = {0x41, 0x11, 0x06, 0xe4, 0x97, 0x00, 0x00, 0x00, 0xe7, 0x80, 0x00, 0x00,
                                     0xa2, 0x60, 0x41, 0x01, 0x82, 0x80, 0x13, 0x00};
  const auto insns = decode_all(code, RuntimeAddr(0x1000));
  REQUIRE(insns.size() == 7);
  const char* texts[] = {"addi sp, sp, -16", "sd ra, 8(sp)", "auipc ra, 0x0", "jalr ra",
                         "ld ra, 8(sp)",     "addi sp, sp, 16", "ret"};
  const uint64_t offsets[] = {0, 2, 4, 8, 0xc, 0xe, 0x10};
  for (size_t i = 0; i < insns.size(); ++i) {
    INFO(i);
    CHECK(insns[i].insn.text == texts[i]);
    CHECK(insns[i].insn.address == RuntimeAddr(0x1000 + offsets[i]));
  }
  CHECK(decode_all({}, RuntimeAddr(0x1000)).empty());
  CHECK(decode_all(std::vector<uint8_t>{0x41}, RuntimeAddr(0x1000)).empty());
  // A reserved length ends the decoding.
  CHECK(decode_all(std::vector<uint8_t>{0x01, 0x00, 0x7f, 0x00, 0x01, 0x00}, RuntimeAddr(0x1000)).size() == 1);
}

TEST_CASE("riscv64 decode: compressed instructions stand for their 32-bit equivalents", "[arch][riscv64]") {
  struct Case {
    uint16_t parcel;
    uint32_t word;
  };
  const Case cases[] = {
      {0x1141, 0xff010113},  // c.addi16sp sp, -16  = addi sp, sp, -16
      {0xe406, 0x00113423},  // c.sdsp ra, 8(sp)    = sd ra, 8(sp)
      {0x8082, 0x00008067},  // c.jr ra             = jalr zero, 0(ra)
      {0x9782, 0x000780e7},  // c.jalr a5           = jalr ra, 0(a5)
      {0xbf6d, 0xfbbff06f},  // c.j -70             = jal zero, -70
      {0xc989, 0x00058963},  // c.beqz a1, +18      = beq a1, zero, +18
      {0x84ae, 0x00058493},  // c.mv s1, a1         = addi s1, a1, 0
      {0x9002, 0x00100073},  // c.ebreak            = ebreak
      {0x0000, 0xc0001073},  // the all-zero parcel is "unimp"
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.parcel);
    const CompressedRow* row = classify_compressed(c.parcel);
    REQUIRE(row != nullptr);
    CHECK(expand(*row, c.parcel) == c.word);
  }
}
