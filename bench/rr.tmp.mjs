import { realisticDump } from './lib/input.mjs';
import { loadCore } from './lib/core.mjs';
const w='/tmp/bw';
const d = await realisticDump(w, 256, console.log);
const core = await loadCore(w);
const dump = await core.openSource(d.image);
const kernel = await core.openSource(d.kernel);
const kd = await core.Kvm.open({ dump, kernel });
console.log(await kd.mkheader(d.headerOff));
const L = core.memoryLayers(kd);
console.log(d.mappings.map(m=>[m.va.toString(16), m.size.toString(16), m.page]));
const N=Number(process.env.N||20000);
const vas=[];
const m4=d.mappings.filter(m=>m.page==='4k'), m2=d.mappings.filter(m=>m.page==='2m');
let x=12345; const rnd=()=>(x=(Math.imul(x^(x>>>15),0x2c1b3c6d)+0x6d2b79f5)>>>0);
for(let i=0;i<N;i++){const k=i%3; let va;
 if(k===0){const m=m4[rnd()%m4.length]; va=m.va+BigInt((rnd()%Number(m.size))&~7);}
 else if(k===1){const m=m2[rnd()%m2.length]; va=m.va+BigInt((rnd()%Number(m.size))&~7);}
 else {va=d.layout.directMap.base+0x100000n+BigInt(((rnd()*4096+rnd())%(256*1048576-0x100000))&~7);}
 vas.push(va);}
const offs=new Float64Array(N);
for(let i=0;i<N;i++){const t=await L.virtual.translate(vas[i]); if(!t.ok) throw new Error(t.reason); offs[i]=L.physical.fileOffset(t.pa);}
const b=new Uint8Array(8);
let t0=performance.now(); for(let i=0;i<N;i++) await dump.pread(b,offs[i]); console.log('plain',(performance.now()-t0)/N*1000,'us');
t0=performance.now(); for(let i=0;i<N;i++) {const r=await L.virtual.read(vas[i],8); if(r.faults.length) throw 1;} console.log('layers',(performance.now()-t0)/N*1000,'us');
t0=performance.now(); for(let i=0;i<N;i++) if(await kd.read(vas[i],b)!==8) throw 2; console.log('kvm',(performance.now()-t0)/N*1000,'us');
