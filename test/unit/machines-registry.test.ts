import { describe, expect, it } from 'vitest';
import { MACHINE_NAMES, MACHINES, machineByMid, machineByName } from '../../core/machines/index.ts';

describe('machine registry', () => {
  it('registers amd64, i386, aarch64 in that order', () => {
    expect(MACHINES.map((m) => m.name)).toEqual(['amd64', 'i386', 'aarch64']);
  });

  it('finds modules by MID and by name; i386pae resolves to the i386 module', () => {
    expect(machineByMid(157)?.name).toBe('amd64');
    expect(machineByMid(134)?.name).toBe('i386');
    expect(machineByMid(183)?.name).toBe('aarch64');
    expect(machineByMid(152)).toBeUndefined(); // the stale exec_aout.h MID_X86_64
    for (const name of MACHINE_NAMES) expect(machineByName(name)).toBeDefined();
    expect(machineByName('i386pae')).toBe(machineByName('i386'));
  });

  it('every module pages in 4 KiB and opens empty CPU data without throwing', () => {
    for (const m of MACHINES) {
      expect(m.pageSize).toBe(4096);
      const state = m.open(new Uint8Array(0));
      expect(state.segments).toEqual([]);
      expect(state.pa2off(0x1000n)).toBe(0);
    }
  });
});
