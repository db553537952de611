//! A backup file crafted to eat memory: valid magic line, header and trailer, and a body that
//! decompresses to one line of 64 MiB with no end. A restore refuses it as soon as the line
//! passes its limit, and its memory stays flat (this binary holds this one test, so the
//! process's peak is the restore's).

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use sha2::{Digest, Sha256};

use shaozi_server::backup::restore::verify;

/// The process's peak resident memory, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_body_line_without_end_is_refused_with_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.backup");
    let mut file = Vec::new();
    file.extend_from_slice(shaozi_server::backup::MAGIC.as_bytes());
    file.extend_from_slice(
        br#"{"format":1,"seq":1,"taken_at":"2026-12-01T00:00:00Z","taken_from":"sled","server_version":"0.1.0","compression":"zstd"}"#,
    );
    file.push(b'\n');
    {
        let mut z = zstd::stream::write::Encoder::new(&mut file, 1).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..64 {
            z.write_all(&chunk).unwrap();
        }
        z.finish().unwrap();
    }
    let sum: String = Sha256::digest(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let trailer = format!("SHAOZI-BACKUP-END sha256:{sum} bytes:{:020}\n", file.len());
    file.extend_from_slice(trailer.as_bytes());
    assert!(
        file.len() < 1 << 20,
        "the crafted file is small: {}",
        file.len()
    );
    std::fs::write(&path, &file).unwrap();
    let before = peak_kib();
    let e = verify(&path).expect_err("refused");
    let grew = peak_kib().saturating_sub(before);
    assert!(e.to_string().contains("longer than 4 MiB"), "{e}");
    println!(
        "a {} byte file asking for a 64 MiB line: refused, peak memory grew {grew} KiB",
        file.len()
    );
    assert!(grew < 32 * 1024, "memory grew {grew} KiB");
}
