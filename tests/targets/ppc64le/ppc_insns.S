# ppc64le (ELFv2) functions of known layout for the ppc64le integration
# tests (tests/integration/test_ppc64le.cpp names their offsets): a function
# with a global and a local entry, branches of every kind, the pc-read
# idiom, addpcis, a lwarx/stwcx. loop and traps. Driven by ppc_driver.c.
	.abiversion 2
	.text

# long entries(long x): x + 1. Sets up r2 at its global entry, so it has a
# local entry at +8 (direct calls enter there, calls through a pointer at +0).
	.globl entries
	.type entries, @function
entries:
0:	addis 2,12,.TOC.-0b@ha		# +0x0
	addi 2,2,.TOC.-0b@l		# +0x4
	.localentry entries,.-entries
	addi 3,3,1			# +0x8
	blr				# +0xc
	.size entries, .-entries

# unsigned long pcread(void): its own address + 8, by bcl 20,31,$+4.
	.globl pcread
	.type pcread, @function
pcread:
	mflr 0				# +0x0
	bcl 20,31,1f			# +0x4
1:	mflr 3				# +0x8
	mtlr 0				# +0xc
	blr				# +0x10
	.size pcread, .-pcread

# unsigned long nia(void): its own address + 4, by lnia (addpcis, ISA 3.0).
	.globl nia
	.type nia, @function
nia:
	lnia 3				# +0x0
	blr				# +0x4
	.size nia, .-nia

# long branchy(long n): sum of 1..n with bdnz, plus 100 when n is 0 (beq),
# plus what leaf(n) returns (bl), through CTR (bctrl) to leaf again.
	.globl branchy
	.type branchy, @function
branchy:
0:	addis 2,12,.TOC.-0b@ha		# +0x0
	addi 2,2,.TOC.-0b@l		# +0x4
	.localentry branchy,.-branchy
	mflr 0				# +0x8
	std 0,16(1)			# +0xc
	stdu 1,-48(1)			# +0x10
	std 31,40(1)			# +0x14
	mr 31,3				# +0x18
	li 4,0				# +0x1c
	cmpdi 3,0			# +0x20
	beq 2f				# +0x24
	mtctr 3				# +0x28
1:	mfctr 5				# +0x2c
	add 4,4,5			# +0x30
	bdnz 1b				# +0x34
	b 3f				# +0x38
2:	li 4,100			# +0x3c
3:	mr 3,31				# +0x40
	mr 31,4				# +0x44
	bl leaf				# +0x48
	add 31,31,3			# +0x4c
	addis 12,2,leaf@toc@ha		# +0x50
	addi 12,12,leaf@toc@l		# +0x54
	mtctr 12			# +0x58
	li 3,1				# +0x5c
	bctrl				# +0x60
	add 3,31,3			# +0x64
	ld 31,40(1)			# +0x68
	addi 1,1,48			# +0x6c
	ld 0,16(1)			# +0x70
	mtlr 0				# +0x74
	blr				# +0x78
	.size branchy, .-branchy

# long leaf(long x): 2 * x, a leaf whose return address stays in LR.
	.globl leaf
	.type leaf, @function
leaf:
	add 3,3,3			# +0x0
	blr				# +0x4
	.size leaf, .-leaf

# int atomic_add(int *p, int v): *p += v atomically; the new value.
	.globl atomic_add
	.type atomic_add, @function
atomic_add:
	sync				# +0x0
1:	lwarx 9,0,3			# +0x4
	add 9,9,4			# +0x8
	stwcx. 9,0,3			# +0xc
	bne- 1b				# +0x10
	isync				# +0x14
	mr 3,9				# +0x18
	blr				# +0x1c
	.size atomic_add, .-atomic_add

# long checked(long x): x, after a conditional trap that fires only when
# x < 0 (an assertion the program relies on).
	.globl checked
	.type checked, @function
checked:
	tdlti 3,0			# +0x0
	blr				# +0x4
	.size checked, .-checked

# void own_trap(void): the program's own unconditional trap; its SIGTRAP
# handler steps over it.
	.globl own_trap
	.type own_trap, @function
own_trap:
	trap				# +0x0
	blr				# +0x4
	.size own_trap, .-own_trap

	.section .note.GNU-stack,"",@progbits
