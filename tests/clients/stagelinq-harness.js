// npm stagelinq 3.5.5 against djdissect's emulated StageLinQ units (clients.md 4 and 7.4).
//
// Usage: node stagelinq-harness.js SECONDS
//   OUT_DIR    where downloaded Engine databases are written (default: the OS temp dir)
//   NO_IFACES  stub os.networkInterfaces so the client never announces on real NICs (4.1)
//
// Prints one JSON object per line on stdout: connected, ready, statemap (each value once per
// device and path), trackLoaded, nowPlaying, beats (a per-device summary each second), database
// (each FileTransfer download, written to OUT_DIR), errors, and a summary.
// tests/stagelinq_clients.rs asserts on these lines. Exit 3 if the library crashes.
'use strict';

if (process.env.NO_IFACES) require('os').networkInterfaces = () => ({});

const fs = require('fs');
const os = require('os');
const path = require('path');

const seconds = Number(process.argv[2] || 10);
const outDir = process.env.OUT_DIR || os.tmpdir();
const t0 = Date.now();
const say = (event, fields) =>
  console.log(JSON.stringify({ t: (Date.now() - t0) / 1000, event, ...fields }));

process.on('uncaughtException', e => { say('uncaught', { message: String(e && e.stack || e) }); process.exit(3); });
process.on('unhandledRejection', e => { say('uncaught', { message: String(e && e.stack || e) }); process.exit(3); });

const { StageLinqInstance } = require('stagelinq');

const counts = { connected: 0, ready: 0, values: 0, trackLoaded: 0, nowPlaying: 0, beats: 0, databases: 0, errors: 0 };
const logger = {
  error: (...a) => { counts.errors++; say('error', { message: a.map(String).join(' ') }); },
  warn: (...a) => say('warn', { message: a.map(String).join(' ') }),
  info: () => {}, debug: () => {}, trace: () => {}, silly: () => {}, log: () => {},
};

const seen = new Set();
// Per device address: beat frames, and per deck the last beat and the tempos seen.
const beats = new Map();
const downloading = new Set();

function deckSummary(info) {
  return {
    address: info.address,
    frames: info.frames,
    decks: info.decks.map(d => ({ beat: d.beat, bpm: d.bpm, minBpm: d.minBpm, maxBpm: d.maxBpm })),
  };
}

async function download(sl, deviceId, ft) {
  if (downloading.has(deviceId)) return;
  downloading.add(deviceId);
  try {
    const sources = await ft.getSources();
    say('sources', { deviceId, sources: sources.map(s => ({ name: s.name, location: s.database.location, size: s.database.size })) });
    for (const s of sources) {
      const data = await ft.getFile(s.database.location);
      const file = path.join(outDir, `${deviceId.replace(/[^0-9a-zA-Z]/g, '_')}.db`);
      fs.writeFileSync(file, Buffer.from(data));
      counts.databases++;
      say('database', { deviceId, source: s.name, location: s.database.location, announced: s.database.size, size: data.length, file });
    }
  } catch (e) {
    counts.errors++;
    say('error', { message: `download from ${deviceId}: ${e && e.message || e}` });
  }
}

async function main() {
  const sl = new StageLinqInstance({ logger, enableFileTranfer: true, downloadDbSources: false });
  sl.on('connected', i => {
    counts.connected++;
    say('connected', { address: i.address, port: i.port, source: i.source, software: i.software && i.software.name, version: i.software && i.software.version });
  });
  sl.on('ready', () => {
    counts.ready++;
    say('ready', {});
    // The FileTransfer services the library opened on connect: download each unit's database.
    for (const [deviceId, d] of sl.devices.devices) {
      if (d && d.fileTransferService) download(sl, deviceId, d.fileTransferService);
    }
  });
  sl.on('message', (i, d) => {
    const m = d && d.message;
    if (!m || !m.name || m.json === undefined) return;
    const key = `${i.address}|${m.name}|${JSON.stringify(m.json)}`;
    if (seen.has(key)) return;
    seen.add(key);
    counts.values++;
    say('statemap', { address: i.address, name: m.name, json: m.json });
  });
  sl.on('trackLoaded', s => {
    counts.trackLoaded++;
    say('trackLoaded', { address: s.address, deck: s.deck, layer: s.layer, title: s.title, artist: s.artist, trackNetworkPath: s.trackNetworkPath, deviceId: s.deviceId });
  });
  sl.on('nowPlaying', s => {
    counts.nowPlaying++;
    say('nowPlaying', { address: s.address, deck: s.deck, layer: s.layer, title: s.title, artist: s.artist, masterStatus: s.masterStatus, currentBpm: s.currentBpm });
  });
  sl.on('beatMessage', (i, b) => {
    counts.beats++;
    let info = beats.get(i.address);
    if (!info) { info = { address: i.address, frames: 0, decks: [] }; beats.set(i.address, info); }
    info.frames++;
    (b.decks || []).forEach((d, k) => {
      const x = info.decks[k] || (info.decks[k] = { beat: 0, bpm: 0, minBpm: Infinity, maxBpm: -Infinity });
      x.beat = d.beat; x.bpm = d.bpm;
      if (d.bpm > 0) { x.minBpm = Math.min(x.minBpm, d.bpm); x.maxBpm = Math.max(x.maxBpm, d.bpm); }
    });
  });
  const tick = setInterval(() => { for (const info of beats.values()) say('beats', deckSummary(info)); }, 1000);
  await sl.connect();
  say('listening', {});
  setTimeout(() => {
    clearInterval(tick);
    for (const info of beats.values()) say('beats', deckSummary(info));
    say('summary', counts);
    process.exit(0);
  }, seconds * 1000);
}

main();
