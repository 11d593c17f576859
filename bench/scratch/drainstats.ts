import { startRedisServer } from '@conveyor/testing';
import { Redis } from 'ioredis';
import { connect, consumer, completedCount, submitAll } from '../broker/conveyor.ts';
import { waitUntil } from '../lib/wait.ts';

const C = Number(process.env.C ?? 50);
const JOBS = Number(process.env.JOBS ?? 20000);
const server = await startRedisServer();
const admin = new Redis(server.url);
const replicaServer = process.env.REPLICA ? await startRedisServer() : undefined;
const replica = replicaServer ? new Redis(replicaServer.url) : undefined;
if (replica) { const u = new URL(server.url); await replica.replicaof(u.hostname, u.port); }
const producer = await connect(server.url);
const workers = await connect(server.url);
const worker = consumer(workers, `p-c${C}`, C, async () => undefined);
await submitAll(producer, JOBS, 1000);
if (process.env.AOF) { await admin.config('SET', 'appendonly', 'yes'); await new Promise((r) => setTimeout(r, 1500)); }
await admin.config('RESETSTAT');
if (process.env.SIGNAL) { (await import('node:fs')).writeFileSync('/tmp/drain-start', ''); await new Promise((r) => setTimeout(r, 300)); await admin.config('RESETSTAT'); }
const cpuOf = async (r = admin) => { const i = await r.info('cpu'); return Number(/used_cpu_user:([\d.]+)/.exec(i)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(i)![1]); };
if (replica) await waitUntil('sync', async () => /master_link_status:up/.test(await replica.info('replication')));
const cpu0 = await cpuOf(); const rcpu0 = replica ? await cpuOf(replica) : 0; const t0 = performance.now();
await worker.start();
await waitUntil('drain', async () => (await completedCount(producer)) >= JOBS);
if (replica) { await new Promise((r) => setTimeout(r, 300)); console.log('replica cpu us/job', ((await cpuOf(replica) - rcpu0) * 1e6 / JOBS).toFixed(1)); }
const cpu1 = await cpuOf(); console.log('redis cpu us/job', ((cpu1 - cpu0) * 1e6 / JOBS).toFixed(1), 'rate', Math.round(JOBS / (performance.now() - t0) * 1000));
const prof = await admin.hgetall('prof'); const jobsN = Number(prof.jobs); for (const k of Object.keys(prof).sort()) console.log('PROF', k, (Number(prof[k]) / jobsN).toFixed(2));
const info = await admin.info('commandstats');
let total = 0; const rows: [string, number, number][] = [];
for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)) { rows.push([m[1]!, Number(m[2]) / JOBS, Number(m[3]) / JOBS]); }
rows.sort((a, b) => b[1] - a[1]);
for (const [c, n, us] of rows) { if (c !== 'fcall') total += n; console.log(c.padEnd(20), n.toFixed(3), us.toFixed(2)); }
console.log('commands/job', total.toFixed(2), 'cmd us/job', rows.filter((r) => r[0] !== 'fcall').reduce((a, r) => a + r[2], 0).toFixed(2));
await worker.stop(1000); await producer.close(); await workers.close(); await admin.quit(); await server.stop(); if (replicaServer) { replica!.disconnect(); await replicaServer.stop(); }
