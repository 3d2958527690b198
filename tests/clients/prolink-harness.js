// prolink-connect 0.11.0 against djdissect's emulated devices (clients.md 3 and 7.4).
//
// Usage: node prolink-harness.js SECONDS
//   VCDJ_ID   the virtual CDJ's number (default 5: real players answer dbserver requesters
//             1-4, 1-6 for a CDJ-3000, clients.md 3.3 c)
//   IFACE_IP  hand configuration on that address (autoconfig never works on lo, 3.1);
//             default: autoconfigFromPeers() on the interface that holds the first device
//
// Prints one JSON object per line on stdout: device, status (on change), nowPlaying, metadata
// and beat grid per track (remotedb for CDJs, db.getMetadata for rekordbox), errors, and a
// summary. tests/prolink_connect.rs asserts on these lines. Exit 3 if the library crashes.
'use strict';

const seconds = Number(process.argv[2] || 10);
const t0 = Date.now();
const say = (event, fields) =>
  console.log(JSON.stringify({ t: (Date.now() - t0) / 1000, event, ...fields }));

process.on('uncaughtException', e => { say('uncaught', { message: String(e && e.stack || e) }); process.exit(3); });
process.on('unhandledRejection', e => { say('uncaught', { message: String(e && e.stack || e) }); process.exit(3); });

const { bringOnline } = require('prolink-connect');

const within = (ms, promise) =>
  Promise.race([promise, new Promise((_, no) => setTimeout(() => no(new Error(`no answer in ${ms} ms`)), ms))]);

const counts = { devices: 0, status: 0, nowPlaying: 0, metadata: 0, beatGrids: 0, errors: 0 };
const devices = new Map();
const asked = new Set();

function summarise(grid) {
  if (!Array.isArray(grid)) return null;
  return { beats: grid.length, first: grid[0] || null };
}

// A CDJ's tracks: straight through remotedb (its Local path needs NFS, clients.md 3.3 c).
async function cdjMetadata(network, s) {
  const conn = await within(4000, network.remotedb.get(s.trackDeviceId));
  if (!conn) throw new Error(`no remotedb connection to ${s.trackDeviceId}`);
  const queryDescriptor = { trackSlot: s.trackSlot, trackType: s.trackType, menuTarget: 1 };
  const args = { trackId: s.trackId };
  // The bundle does not export its Query table: GetMetadata 0x2002, GetBeatGrid 0x2204.
  const t = await within(4000, conn.query({ query: 0x2002, queryDescriptor, args }));
  const grid = await within(4000, conn.query({ query: 0x2204, queryDescriptor, args }));
  return { t, grid };
}

// rekordbox (device type 4) takes db.getMetadata's Remote path (3.3 c), which also asks
// GetTrackInfo (the path) and GetBeatGrid.
async function rekordboxMetadata(network, rb, trackId) {
  const t = await within(6000, network.db.getMetadata({
    deviceId: rb.id, trackSlot: 4 /* RB */, trackType: 1 /* RB */, trackId,
  }));
  return { t, grid: t && t.beatGrid };
}

function report(kind, deviceId, trackId, { t, grid }) {
  if (!t) throw new Error('no track');
  counts.metadata++;
  if (Array.isArray(grid) && grid.length) counts.beatGrids++;
  say('metadata', {
    via: kind, deviceId, trackId,
    title: t.title, artist: t.artist && t.artist.name, album: t.album && t.album.name,
    key: t.key && t.key.name, duration: t.duration, tempo: t.tempo,
    filePath: t.filePath || null, beatGrid: summarise(grid),
  });
}

async function main() {
  const network = await bringOnline();
  say('online', {});
  network.deviceManager.on('connected', d => {
    counts.devices++;
    devices.set(d.id, d);
    say('device', { number: d.id, name: d.name, type: d.type, ip: d.ip.address, mac: d.macAddr && Buffer.from(d.macAddr).toString('hex') });
  });
  network.deviceManager.on('disconnected', d => say('left', { number: d.id, name: d.name }));

  const vcdjId = Number(process.env.VCDJ_ID || 5);
  if (process.env.IFACE_IP) {
    network.configure({ vcdjId, iface: { address: process.env.IFACE_IP, mac: '02:00:00:00:00:07' } });
  } else {
    await network.autoconfigFromPeers();
    network.configure({ vcdjId });
  }
  network.connect();
  say('connected', { vcdjId });

  const last = new Map();
  let rekordboxAsked = false;
  network.statusEmitter.on('status', s => {
    counts.status++;
    const view = {
      deviceId: s.deviceId, playing: s.playState === 3, playState: s.playState,
      bpm: s.trackBPM, pitch: s.sliderPitch, effectivePitch: s.effectivePitch,
      beat: s.beat, beatInMeasure: s.beatInMeasure, onAir: s.isOnAir, master: s.isMaster,
      sync: s.isSync, trackId: s.trackId, trackDeviceId: s.trackDeviceId,
      trackSlot: s.trackSlot, trackType: s.trackType,
    };
    const key = JSON.stringify([view.playState, view.onAir, view.master, view.trackId, view.sync]);
    if (last.get(s.deviceId) !== key) {
      last.set(s.deviceId, key);
      say('status', view);
    }
    const track = `${s.trackDeviceId}/${s.trackSlot}/${s.trackId}`;
    if (s.trackId && !asked.has(track)) {
      asked.add(track);
      cdjMetadata(network, s)
        .then(r => report('remotedb', s.trackDeviceId, s.trackId, r))
        .catch(e => { counts.errors++; say('error', { what: `metadata ${track}`, message: e.message }); });
    }
    const rb = [...devices.values()].find(d => d.type === 4);
    if (rb && s.trackId && !rekordboxAsked) {
      rekordboxAsked = true;
      rekordboxMetadata(network, rb, s.trackId)
        .then(r => report('db.getMetadata', rb.id, s.trackId, r))
        .catch(e => { counts.errors++; say('error', { what: `rekordbox metadata ${s.trackId}`, message: e.message }); });
    }
  });
  network.mixstatus.on('nowPlaying', s => {
    counts.nowPlaying++;
    say('nowPlaying', { deviceId: s.deviceId, trackId: s.trackId, bpm: s.trackBPM });
  });
}

setTimeout(() => { say('summary', counts); process.exit(0); }, seconds * 1000);
main().catch(e => { say('error', { what: 'main', message: e.message }); process.exit(2); });
