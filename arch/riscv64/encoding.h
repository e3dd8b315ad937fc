#pragma once
// Fields of the RISC-V encodings (RV64GC, little-endian) that the decoder,
// the emulations and the tests read: instruction lengths, register fields and
// the immediates of every format, 32-bit and compressed.
//
// An instruction is made of 16-bit parcels. Its length is in the low bits of
// its first parcel: xx != 11 is a 2-byte compressed instruction, then
// xxx11 with bits 4:2 != 111 a 4-byte one; 011111 announces 6 bytes and
// 0111111 8 bytes (no ratified instruction uses those yet), and longer
// forms are reserved.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace uptrace::arch::riscv64 {

constexpr unsigned kParcel = 2;  // bytes: every instruction is 2-byte aligned

// The length in bytes announced by an instruction's first parcel: 2, 4, 6 or
// 8; nullopt for the reserved longer encodings (bits 6:0 == 1111111).
std::optional<unsigned> insn_length(uint16_t first_parcel);

// The first parcel / the 32-bit word at the start of `code`, when there are
// enough bytes.
std::optional<uint16_t> read_parcel(std::span<const uint8_t> code);
std::optional<uint32_t> read_word(std::span<const uint8_t> code);
std::array<uint8_t, 4> word_bytes(uint32_t word);
std::array<uint8_t, 2> parcel_bytes(uint16_t parcel);

constexpr uint32_t bits(uint32_t word, unsigned hi, unsigned lo) {
  return (word >> lo) & ((uint32_t{1} << (hi - lo + 1)) - 1);
}
int64_t sign_extend(uint64_t value, unsigned width);

// 32-bit formats.
constexpr unsigned opcode(uint32_t w) { return bits(w, 6, 0); }
constexpr unsigned rd(uint32_t w) { return bits(w, 11, 7); }
constexpr unsigned rs1(uint32_t w) { return bits(w, 19, 15); }
constexpr unsigned rs2(uint32_t w) { return bits(w, 24, 20); }
constexpr unsigned rs3(uint32_t w) { return bits(w, 31, 27); }
constexpr unsigned funct3(uint32_t w) { return bits(w, 14, 12); }
int64_t imm_i(uint32_t w);  // 12 bits, bits 31:20
int64_t imm_s(uint32_t w);  // 12 bits, bits 31:25 and 11:7
int64_t imm_b(uint32_t w);  // 13 bits, even: branches
int64_t imm_u(uint32_t w);  // bits 31:12 << 12, sign-extended from 32 bits (lui, auipc)
int64_t imm_j(uint32_t w);  // 21 bits, even: jal

// Compressed formats (the parcel in the low 16 bits). rd'/rs1'/rs2' name
// x8..x15 in three bits.
constexpr unsigned c_op(uint32_t p) { return bits(p, 1, 0); }
constexpr unsigned c_funct3(uint32_t p) { return bits(p, 15, 13); }
constexpr unsigned c_rd(uint32_t p) { return bits(p, 11, 7); }    // also rs1 of CR/CI
constexpr unsigned c_rs2(uint32_t p) { return bits(p, 6, 2); }
constexpr unsigned c_rd_prime(uint32_t p) { return 8 + bits(p, 4, 2); }   // also rs2' (CL rd', CS rs2')
constexpr unsigned c_rs1_prime(uint32_t p) { return 8 + bits(p, 9, 7); }  // also rd' of CB/CA
int64_t c_imm_ci(uint32_t p);          // c.addi, c.li, c.andi, c.addiw: imm[5] bit 12, imm[4:0] bits 6:2
unsigned c_shamt(uint32_t p);          // c.slli, c.srli, c.srai: shamt[5] bit 12, shamt[4:0] bits 6:2
int64_t c_imm_lui(uint32_t p);         // c.lui: nzimm[17:12], as the value lui would load
int64_t c_imm_addi16sp(uint32_t p);    // c.addi16sp: nzimm[9:4]
unsigned c_imm_addi4spn(uint32_t p);   // c.addi4spn: nzuimm[9:2]
unsigned c_uimm_w(uint32_t p);         // c.lw, c.sw: uimm[6:2]
unsigned c_uimm_d(uint32_t p);         // c.ld, c.sd, c.fld, c.fsd: uimm[7:3]
unsigned c_uimm_lwsp(uint32_t p);      // c.lwsp: uimm[7:2]
unsigned c_uimm_ldsp(uint32_t p);      // c.ldsp, c.fldsp: uimm[8:3]
unsigned c_uimm_swsp(uint32_t p);      // c.swsp: uimm[7:2]
unsigned c_uimm_sdsp(uint32_t p);      // c.sdsp, c.fsdsp: uimm[8:3]
int64_t c_imm_j(uint32_t p);           // c.j: offset[11:1]
int64_t c_imm_b(uint32_t p);           // c.beqz, c.bnez: offset[8:1]

// 32-bit encoders, for the compressed instructions' 32-bit equivalents and
// for tests. Immediates must fit their fields.
uint32_t encode_r(unsigned opcode, unsigned funct3, unsigned funct7, unsigned rd, unsigned rs1, unsigned rs2);
uint32_t encode_i(unsigned opcode, unsigned funct3, unsigned rd, unsigned rs1, int64_t imm);
uint32_t encode_s(unsigned opcode, unsigned funct3, unsigned rs1, unsigned rs2, int64_t imm);
uint32_t encode_b(unsigned funct3, unsigned rs1, unsigned rs2, int64_t offset);
uint32_t encode_u(unsigned opcode, unsigned rd, int64_t imm);  // imm: the value (low 12 bits zero)
uint32_t encode_j(unsigned rd, int64_t offset);

// Major opcodes (bits 6:0) of the 32-bit encoding.
namespace op {
constexpr unsigned kLoad = 0x03, kLoadFp = 0x07, kMiscMem = 0x0f, kOpImm = 0x13, kAuipc = 0x17, kOpImm32 = 0x1b,
                   kStore = 0x23, kStoreFp = 0x27, kAmo = 0x2f, kOp = 0x33, kLui = 0x37, kOp32 = 0x3b,
                   kMadd = 0x43, kMsub = 0x47, kNmsub = 0x4b, kNmadd = 0x4f, kOpFp = 0x53, kBranch = 0x63,
                   kJalr = 0x67, kJal = 0x6f, kSystem = 0x73;
}  // namespace op

}  // namespace uptrace::arch::riscv64
