/* Functions of known layout for the riscv64 probe tests
 * (tests/integration/test_riscv64.cpp), driven by riscv64_driver.c. Every
 * instruction's size is fixed here: `.option rvc` blocks use only explicit
 * c.* instructions, `.option norvc` blocks only 4-byte ones, and norelax
 * keeps the linker from shortening anything. The offsets in the comments
 * are the ones the tests probe (FUNC+OFF).
 * Built only for riscv64 (tests/targets/CMakeLists.txt). */
	.option norelax
	.text

/* long rv_cbeqz(long x): x == 0 ? 10 : 20 -- a 2-byte branch. */
	.globl rv_cbeqz
	.type rv_cbeqz, @function
	.option push
	.option rvc
rv_cbeqz:
	c.beqz a0, 1f        /* +0 */
	c.li a0, 20          /* +2 */
	c.jr ra              /* +4 */
1:	c.li a0, 10          /* +6 */
	c.jr ra              /* +8 */
	.option pop
	.size rv_cbeqz, .-rv_cbeqz

/* long rv_cbnez(long x): x != 0 ? 10 : 20 -- c.bnez. */
	.globl rv_cbnez
	.type rv_cbnez, @function
	.option push
	.option rvc
rv_cbnez:
	c.bnez a0, 1f        /* +0 */
	c.li a0, 20          /* +2 */
	c.jr ra              /* +4 */
1:	c.li a0, 10          /* +6 */
	c.jr ra              /* +8 */
	.option pop
	.size rv_cbnez, .-rv_cbnez

/* long rv_beq(long a, long b): a == b ? 10 : 20 -- a 4-byte branch. */
	.globl rv_beq
	.type rv_beq, @function
	.option push
	.option norvc
rv_beq:
	beq a0, a1, 1f       /* +0 */
	addi a0, zero, 20    /* +4 */
	jalr zero, 0(ra)     /* +8 */
1:	addi a0, zero, 10    /* +12 */
	jalr zero, 0(ra)     /* +16 */
	.option pop
	.size rv_beq, .-rv_beq

/* long rv_blt(long a, long b): a < b (signed) ? 10 : 20. */
	.globl rv_blt
	.type rv_blt, @function
	.option push
	.option norvc
rv_blt:
	blt a0, a1, 1f       /* +0 */
	addi a0, zero, 20    /* +4 */
	jalr zero, 0(ra)     /* +8 */
1:	addi a0, zero, 10    /* +12 */
	jalr zero, 0(ra)     /* +16 */
	.option pop
	.size rv_blt, .-rv_blt

/* long rv_bgeu(long a, long b): a >= b (unsigned) ? 10 : 20. */
	.globl rv_bgeu
	.type rv_bgeu, @function
	.option push
	.option norvc
rv_bgeu:
	bgeu a0, a1, 1f      /* +0 */
	addi a0, zero, 20    /* +4 */
	jalr zero, 0(ra)     /* +8 */
1:	addi a0, zero, 10    /* +12 */
	jalr zero, 0(ra)     /* +16 */
	.option pop
	.size rv_bgeu, .-rv_bgeu

/* long rv_cj(long x): x + 4 -- c.j over an instruction that would add 31. */
	.globl rv_cj
	.type rv_cj, @function
	.option push
	.option rvc
rv_cj:
	c.j 1f               /* +0 */
	c.addi a0, 31        /* +2, never runs */
1:	c.addi a0, 4         /* +4 */
	c.jr ra              /* +6 */
	.option pop
	.size rv_cj, .-rv_cj

/* long rv_helper(long x): 3 * x, a leaf that returns with a 4-byte ret. */
	.globl rv_helper
	.type rv_helper, @function
	.option push
	.option norvc
rv_helper:
	.cfi_startproc
	slli t0, a0, 1       /* +0 */
	add a0, a0, t0       /* +4 */
	jalr zero, 0(ra)     /* +8 */
	.cfi_endproc
	.option pop
	.size rv_helper, .-rv_helper

/* long rv_jal(long x): rv_helper(x) + 1 -- jal ra (4-byte), ra saved by the
 * prologue, which its CFI says (for rv_jal%return). */
	.globl rv_jal
	.type rv_jal, @function
	.option push
	.option norvc
rv_jal:
	.cfi_startproc
	addi sp, sp, -16     /* +0 */
	.cfi_def_cfa_offset 16
	sd ra, 8(sp)         /* +4 */
	.cfi_offset ra, -8
	jal ra, rv_helper    /* +8 */
	addi a0, a0, 1       /* +12 */
	ld ra, 8(sp)         /* +16 */
	.cfi_restore ra
	addi sp, sp, 16      /* +20 */
	.cfi_def_cfa_offset 0
	jalr zero, 0(ra)     /* +24 */
	.cfi_endproc
	.option pop
	.size rv_jal, .-rv_jal

/* long rv_jalr(long x, long (*f)(long)): f(x) + 2 -- jalr ra, 0(t1) (4-byte). */
	.globl rv_jalr
	.type rv_jalr, @function
	.option push
	.option norvc
rv_jalr:
	addi sp, sp, -16     /* +0 */
	sd ra, 8(sp)         /* +4 */
	addi t1, a1, 0       /* +8 */
	jalr ra, 0(t1)       /* +12 */
	addi a0, a0, 2       /* +16 */
	ld ra, 8(sp)         /* +20 */
	addi sp, sp, 16      /* +24 */
	jalr zero, 0(ra)     /* +28 */
	.option pop
	.size rv_jalr, .-rv_jalr

/* long rv_cjalr(long x, long (*f)(long)): f(x) + 3 -- c.jalr. */
	.globl rv_cjalr
	.type rv_cjalr, @function
	.option push
	.option rvc
rv_cjalr:
	c.addi16sp sp, -16   /* +0 */
	c.sdsp ra, 8(sp)     /* +2 */
	c.jalr a1            /* +4 */
	c.addi a0, 3         /* +6 */
	c.ldsp ra, 8(sp)     /* +8 */
	c.addi16sp sp, 16    /* +10 */
	c.jr ra              /* +12 */
	.option pop
	.size rv_cjalr, .-rv_cjalr

/* long rv_cjr(long x, long (*f)(long)): f(x) -- a tail call through c.jr. */
	.globl rv_cjr
	.type rv_cjr, @function
	.option push
	.option rvc
rv_cjr:
	c.jr a1              /* +0 */
	.option pop
	.size rv_cjr, .-rv_cjr

/* long rv_jr_off(long x): x + 5 -- auipc, then jalr zero, 20(t1) over three adds. */
	.globl rv_jr_off
	.type rv_jr_off, @function
	.option push
	.option norvc
rv_jr_off:
	auipc t1, 0          /* +0 */
	jalr zero, 20(t1)    /* +4 */
	addi a0, a0, 100     /* +8, never runs */
	addi a0, a0, 100     /* +12, never runs */
	addi a0, a0, 100     /* +16, never runs */
	addi a0, a0, 5       /* +20 */
	jalr zero, 0(ra)     /* +24 */
	.option pop
	.size rv_jr_off, .-rv_jr_off

/* void *rv_auipc(void): its own address, from auipc. */
	.globl rv_auipc
	.type rv_auipc, @function
	.option push
	.option norvc
rv_auipc:
	auipc a0, 0          /* +0 */
	jalr zero, 0(ra)     /* +4 */
	.option pop
	.size rv_auipc, .-rv_auipc

/* unsigned long rv_pcrel(void): rv_data, read through auipc + ld. */
	.globl rv_pcrel
	.type rv_pcrel, @function
	.option push
	.option norvc
rv_pcrel:
1:	auipc a0, %pcrel_hi(rv_data)   /* +0 */
	ld a0, %pcrel_lo(1b)(a0)       /* +4 */
	jalr zero, 0(ra)               /* +8 */
	.option pop
	.size rv_pcrel, .-rv_pcrel

/* int rv_lrsc(int *p, int v): atomically *p += v; returns the old value. */
	.globl rv_lrsc
	.type rv_lrsc, @function
	.option push
	.option norvc
rv_lrsc:
1:	lr.w t0, (a0)        /* +0 */
	add t1, t0, a1       /* +4 */
	sc.w t2, t1, (a0)    /* +8 */
	bnez t2, 1b          /* +12 */
	addi a0, t0, 0       /* +16 */
	jalr zero, 0(ra)     /* +20 */
	.option pop
	.size rv_lrsc, .-rv_lrsc

/* long rv_lrsc_d(long *p, long v): atomically *p += v; returns the new
 * value -- lr.d/sc.d with a compressed add between them. */
	.globl rv_lrsc_d
	.type rv_lrsc_d, @function
	.option push
	.option rvc
rv_lrsc_d:
1:	lr.d.aqrl t0, (a0)   /* +0 */
	c.add t0, a1         /* +4 */
	sc.d.rl t2, t0, (a0) /* +6 */
	.option norvc
	bnez t2, 1b          /* +10 */
	.option rvc
	c.mv a0, t0          /* +14 */
	c.jr ra              /* +16 */
	.option pop
	.size rv_lrsc_d, .-rv_lrsc_d

/* long rv_ebreak(long x): the program's own c.ebreak (its SIGTRAP handler
 * steps over it), then x + 7. */
	.globl rv_ebreak
	.type rv_ebreak, @function
	.option push
	.option rvc
rv_ebreak:
	c.ebreak             /* +0 */
	c.addi a0, 7         /* +2 */
	c.jr ra              /* +4 */
	.option pop
	.size rv_ebreak, .-rv_ebreak

/* long rv_ebreak4(long x): the same with a 4-byte ebreak, then x + 8. */
	.globl rv_ebreak4
	.type rv_ebreak4, @function
	.option push
	.option norvc
rv_ebreak4:
	ebreak               /* +0 */
	addi a0, a0, 8       /* +4 */
	jalr zero, 0(ra)     /* +8 */
	.option pop
	.size rv_ebreak4, .-rv_ebreak4

/* long rv_plain(long x): x + 3 -- a 2-byte add, then a 4-byte one at an
 * address that is 2 mod 4. */
	.globl rv_plain
	.type rv_plain, @function
	.option push
	.option rvc
rv_plain:
	c.addi a0, 1         /* +0 */
	.option norvc
	addi a0, a0, 2       /* +2 */
	.option rvc
	c.jr ra              /* +6 */
	.option pop
	.size rv_plain, .-rv_plain

/* long rv_cframe(long x): 2 * x + 5 -- a compressed prologue, addi sp then
 * a store, as GCC's: a jump at its entry displaces both (the store may
 * fault, and the addi is undone to deliver that at the entry). */
	.globl rv_cframe
	.type rv_cframe, @function
	.option push
	.option rvc
rv_cframe:
	c.addi sp, -16       /* +0 */
	c.sdsp a0, 8(sp)     /* +2 */
	c.addi a0, 5         /* +4 */
	c.ldsp a1, 8(sp)     /* +6 */
	c.add a0, a1         /* +8 */
	c.addi sp, 16        /* +10 */
	c.jr ra              /* +12 */
	.option pop
	.size rv_cframe, .-rv_cframe

	.data
	.balign 8
	.globl rv_data
rv_data:
	.dword 0x1122334455667788

	.section .note.GNU-stack, "", @progbits
