// Type information from a kernel build: DWARF from netbsd.gdb (or a kernel with debug info).

import type { DumpSource } from '../source.ts';
import { listSections, readElfHeader, readSection, ElfFormatError } from '../format/elf.ts';
import { DwarfTypeInfo } from './dwarf.ts';
import { TypeInfoError, type TypeInfo } from './api.ts';

export * from './api.ts';
export { DwarfTypeInfo } from './dwarf.ts';

/** Load the DWARF type information an ELF file carries; throws TypeInfoError saying why not. */
export async function loadTypeInfo(src: DumpSource): Promise<TypeInfo> {
  const parsed = await readElfHeader(src);
  if (!parsed.ok) throw new TypeInfoError(`${src.name}: ${parsed.reason}`);
  try {
    const sections = await listSections(src, parsed.header);
    const info = await readSection(src, sections, '.debug_info');
    const abbrev = await readSection(src, sections, '.debug_abbrev');
    if (!info || !abbrev) {
      const ctf = sections.some((s) => s.name === '.SUNW_ctf');
      throw new TypeInfoError(
        `${src.name} has no DWARF type information (.debug_info/.debug_abbrev)` +
          (ctf ? '; it carries CTF (.SUNW_ctf), which is not read yet' : '') +
          ': supply the debug kernel netbsd.gdb from the same build',
      );
    }
    return new DwarfTypeInfo({
      info,
      abbrev,
      str: await readSection(src, sections, '.debug_str'),
      lineStr: await readSection(src, sections, '.debug_line_str'),
      strOffsets: await readSection(src, sections, '.debug_str_offsets'),
      littleEndian: parsed.header.littleEndian,
    });
  } catch (e) {
    if (e instanceof ElfFormatError) throw new TypeInfoError(`${src.name}: ${e.reason}`);
    throw e;
  }
}
