// SPDX-License-Identifier: MIT
/*
 * The kernel's vDSO clock_gettime(), found by name in the vDSO's own symbol
 * table, so the cache's per-ID clock reads skip the C library's wrapper.
 */
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

#include "internal.h"

/*
 * Only where the vDSO's timespec is the C library's: x86-64 (not x32, not
 * i386, whose vDSO takes a 32-bit time_t).  Elsewhere the caller keeps
 * clock_gettime().
 */
#if defined(__x86_64__) && defined(__LP64__)
#define VDSO_GETTIME	"__vdso_clock_gettime"
#endif

flakeid__gettime_fn flakeid__vdso_gettime(void)
{
#ifdef VDSO_GETTIME
	const ElfW(Ehdr) *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
	const ElfW(Phdr) *ph;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *sym = NULL;
	const Elf32_Word *hash = NULL;
	const char *str = NULL;
	uintptr_t base = 0;
	int i, have_base = 0;
	Elf32_Word k;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	ph = (const void *)((const char *)eh + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_base) {
			base = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
			have_base = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const void *)((const char *)eh + ph[i].p_offset);
		}
	}
	if (!dyn || !have_base)
		return NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			sym = (const void *)(base + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			str = (const void *)(base + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_HASH)
			hash = (const void *)(base + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return NULL;
	/* DT_HASH's second word is the number of symbols. */
	for (k = 0; k < hash[1]; k++) {
		if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC ||
		    sym[k].st_shndx == SHN_UNDEF ||
		    strcmp(str + sym[k].st_name, VDSO_GETTIME))
			continue;
		return (flakeid__gettime_fn)(base + sym[k].st_value);
	}
#endif
	return NULL;
}
