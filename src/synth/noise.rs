//! Traffic that shares a DJ network but is none of djdissect's protocols, for the `long`
//! scenario: NFS-like READ calls and fragmented replies (decks stream LINK audio this way,
//! `prodjlink.md` 8), mDNS announcements, HTTP polling. The project has no Reprs for these (the
//! engine only has to skip them), so they are built here, byte by byte, after their RFCs.

/// ONC RPC / NFSv2 READ (RFC 1057, RFC 1094): program, version, procedure numbers.
const NFS_PROGRAM: u32 = 100_003;
const NFS_VERSION: u32 = 2;
const NFS_READ: u32 = 6;
const AUTH_UNIX: u32 = 1;
/// Real decks read 8 KiB at a time (prodjlink.md 8).
pub const NFS_READ_SIZE: usize = 8192;

fn put(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// An XDR opaque: length, bytes, padding to 4.
fn put_opaque(out: &mut Vec<u8>, b: &[u8]) {
    put(out, b.len() as u32);
    out.extend_from_slice(b);
    out.extend(std::iter::repeat_n(0u8, (4 - b.len() % 4) % 4));
}

/// A READ call for `count` bytes at `offset` of the file `handle`, AUTH_UNIX as root (8).
pub fn nfs_read_call(out: &mut Vec<u8>, xid: u32, stamp: u32, handle: &[u8; 32], offset: u32) {
    out.clear();
    for v in [xid, 0, 2, NFS_PROGRAM, NFS_VERSION, NFS_READ, AUTH_UNIX] {
        put(out, v);
    }
    // Credentials body: stamp, machine name, uid 0, gid 0, no extra groups (24 bytes).
    put(out, 24);
    put(out, stamp);
    put_opaque(out, b"CDJ");
    for v in [0, 0, 0] {
        put(out, v);
    }
    put(out, 0); // verifier AUTH_NULL
    put(out, 0);
    out.extend_from_slice(handle);
    put(out, offset);
    put(out, NFS_READ_SIZE as u32);
    put(out, NFS_READ_SIZE as u32);
}

/// The successful reply: file attributes and `data`.
pub fn nfs_read_reply(out: &mut Vec<u8>, xid: u32, file_size: u32, data: &[u8]) {
    out.clear();
    // xid, REPLY, MSG_ACCEPTED, verifier AUTH_NULL (flavor, length), SUCCESS, NFS_OK.
    for v in [xid, 1, 0, 0, 0, 0, 0] {
        put(out, v);
    }
    // fattr: regular file, mode 0644, 1 link, uid, gid, size, blocksize, rdev, blocks, fsid,
    // fileid, atime, mtime, ctime (RFC 1094 2.3.5).
    let blocks = file_size.div_ceil(512);
    for v in [
        1,
        0o100644,
        1,
        0,
        0,
        file_size,
        512,
        0,
        blocks,
        7,
        4242,
        0x6640_0000,
        0,
        0x6640_0000,
        0,
        0x6640_0000,
        0,
    ] {
        put(out, v);
    }
    put_opaque(out, data);
}

/// A DNS name in labels.
fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn put_rr(out: &mut Vec<u8>, name: &str, rtype: u16, ttl: u32, rdata: &[u8]) {
    put_name(out, name);
    out.extend_from_slice(&rtype.to_be_bytes());
    // Class IN with the cache-flush bit for unique records (RFC 6762 10.2).
    let class: u16 = if rtype == 12 { 0x0001 } else { 0x8001 };
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

/// An unsolicited mDNS response announcing `host`'s web service and address (RFC 6762/6763).
pub fn mdns_announcement(host: &str, ip: [u8; 4], port: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(200);
    // id 0, flags: response + authoritative, 0 questions, 4 answers.
    out.extend_from_slice(&[0, 0, 0x84, 0x00, 0, 0, 0, 4, 0, 0, 0, 0]);
    let instance = format!("{host}._http._tcp.local");
    let target = format!("{host}.local");
    let mut ptr = Vec::new();
    put_name(&mut ptr, &instance);
    put_rr(&mut out, "_http._tcp.local", 12, 4500, &ptr);
    let mut srv = vec![0, 0, 0, 0];
    srv.extend_from_slice(&port.to_be_bytes());
    put_name(&mut srv, &target);
    put_rr(&mut out, &instance, 33, 120, &srv);
    put_rr(&mut out, &instance, 16, 4500, b"\x09path=/api");
    put_rr(&mut out, &target, 1, 120, &ip);
    out
}

pub fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: show-control/2.4\r\nAccept: application/json\r\n\r\n"
    )
    .into_bytes()
}

pub fn http_ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfs_messages_have_their_xdr_lengths() {
        let mut call = Vec::new();
        nfs_read_call(&mut call, 7, 1, &[0xab; 32], 8192);
        // 7 header words (the last is the cred flavor), cred length and its 24 body bytes,
        // verifier, handle, 3 argument words.
        assert_eq!(call.len(), 28 + 4 + 24 + 8 + 32 + 12);
        assert_eq!(&call[..4], &7u32.to_be_bytes());
        let mut reply = Vec::new();
        nfs_read_reply(&mut reply, 7, 9_000_000, &[1; NFS_READ_SIZE]);
        assert_eq!(reply.len(), 28 + 68 + 4 + NFS_READ_SIZE);
    }

    #[test]
    fn mdns_announcement_counts_its_answers() {
        let m = mdns_announcement("DJ-Laptop", [169, 254, 42, 17], 80);
        assert_eq!(&m[6..8], &[0, 4]);
        assert!(m.ends_with(&[0, 4, 169, 254, 42, 17]));
    }
}
