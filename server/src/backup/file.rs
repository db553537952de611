//! The backup file's frame: the magic line, the header, the compressed body and the trailer
//! with its checksum; and the body's lines.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::{BackupError, Counts};
use crate::storage::{HookState, StoredHook};

/// The first line of every backup.
pub const MAGIC: &str = "SHAOZI BACKUP 1\n";
/// The format this version writes and reads.
pub const FORMAT: u64 = 1;
/// The trailer's start; the whole trailer has a fixed length.
const END: &str = "SHAOZI-BACKUP-END";
/// `SHAOZI-BACKUP-END sha256:<64> bytes:<20>\n`.
const TRAILER_LEN: usize = END.len() + 1 + 7 + 64 + 1 + 6 + 20 + 1;
/// The same with the city's signature: `… bytes:<20> hmac-sha256:<64>\n`.
const SIGNED_TRAILER_LEN: usize = TRAILER_LEN + 1 + 12 + 64;
/// The longest line of a body this server reads: far above any event it writes (a record with
/// every text at its limit is tens of KiB), and what a restore holds of a line at most.
pub const LINE_MAX: usize = 4 << 20;
/// The largest zstd window a restore decompresses with (16 MiB; level 3 uses at most 8 MiB):
/// a file cannot ask for more memory than that.
const WINDOW_LOG_MAX: u32 = 24;
/// A header line longer than this is not one of ours.
const HEADER_MAX: usize = 64 * 1024;

/// The backup's header, the second line of the file, readable without decompressing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The file's format.
    pub format: u64,
    /// The sequence number it was taken at: every event up to it, none after.
    pub seq: u64,
    /// When.
    pub taken_at: DateTime<Utc>,
    /// The engine it was taken from (`sled` or `postgres`).
    pub taken_from: String,
    /// The server version that wrote it.
    pub server_version: String,
    /// How the body is compressed.
    pub compression: String,
}

/// One line of the body.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Line {
    /// An event as the log keeps it.
    Event(Box<RawValue>),
    /// A token's secret hash (hex) and what it is.
    Token {
        /// SHA-256 of the secret, hex.
        hash: String,
        /// The token.
        info: shaozi_shared::api::TokenInfo,
    },
    /// An idempotent create's key (hex) and its first answer.
    Kept {
        /// The key (token name, 0, the client's key), hex.
        key: String,
        /// SHA-256 of the request body, hex.
        body: String,
        /// The first answer, JSON.
        answer: String,
    },
    /// A webhook subscription and where it had delivered to.
    Hook {
        /// The subscription.
        hook: StoredHook,
        /// Its delivery state.
        state: HookState,
    },
    /// The last line: how many of each came before.
    End(Counts),
}

pub(super) use crate::storage::query::{hex, unhex};

/// Passes writes on to `inner`, hashing and counting them.
pub(super) struct Hashing<W> {
    pub(super) inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub(super) fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    /// Writes the trailer (not itself hashed), signed with the city's key when it has one,
    /// and returns the inner writer.
    pub(super) fn finish(mut self, vault: &crate::notify::vault::Vault) -> std::io::Result<W> {
        let sum = hex(&self.hash.finalize_reset());
        let mut trailer = format!("{END} sha256:{sum} bytes:{:020}", self.bytes);
        if let Some(sig) = vault.sign_backup(&sum, self.bytes) {
            trailer.push_str(" hmac-sha256:");
            trailer.push_str(&sig);
        }
        trailer.push('\n');
        debug_assert!(trailer.len() == TRAILER_LEN || trailer.len() == SIGNED_TRAILER_LEN);
        self.inner.write_all(trailer.as_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the magic line and the header.
pub(super) fn write_head(out: &mut impl Write, header: &Header) -> Result<(), BackupError> {
    let json = serde_json::to_string(header)
        .map_err(|e| BackupError::Damaged(format!("the header cannot be written: {e}")))?;
    out.write_all(MAGIC.as_bytes())
        .and_then(|_| out.write_all(json.as_bytes()))
        .and_then(|_| out.write_all(b"\n"))
        .map_err(BackupError::io("writing the backup"))
}

/// A backup file found whole: its header, and where its body lies.
pub struct Checked {
    /// The header.
    pub header: Header,
    /// The file's size.
    pub size: u64,
    /// The SHA-256 of everything before the trailer, hex, and how many bytes that is.
    pub sum: (String, u64),
    /// The signature in its trailer, if it was signed.
    pub signature: Option<String>,
    body_start: u64,
    body_len: u64,
}

/// Reads the file through once: its magic line, its header (refusing a newer format) and its
/// trailer, and checks the checksum over every byte. Nothing is decompressed yet.
pub fn check(path: &Path) -> Result<Checked, BackupError> {
    let named = |what: &str| format!("{what} {}", path.display());
    let mut f = std::fs::File::open(path).map_err(BackupError::io(named("opening")))?;
    let size = f
        .metadata()
        .map_err(BackupError::io(named("reading")))?
        .len();
    let not_ours = || {
        BackupError::Damaged(format!(
            "{} is not a shaozi backup (it does not start with {:?})",
            path.display(),
            MAGIC.trim_end()
        ))
    };
    let mut head = BufReader::new(&mut f);
    let mut magic = String::new();
    head.by_ref()
        .take(MAGIC.len() as u64)
        .read_to_string(&mut magic)
        .map_err(|_| not_ours())?;
    if magic != MAGIC {
        if let Some(n) = magic
            .strip_prefix("SHAOZI BACKUP ")
            .and_then(|r| r.trim().parse::<u64>().ok())
        {
            return Err(BackupError::Newer(n));
        }
        return Err(not_ours());
    }
    let mut line = Vec::new();
    head.by_ref()
        .take(HEADER_MAX as u64)
        .read_until(b'\n', &mut line)
        .map_err(BackupError::io(named("reading")))?;
    if line.last() != Some(&b'\n') {
        return Err(BackupError::Damaged(format!(
            "{} is cut short: its header is incomplete",
            path.display()
        )));
    }
    let body_start = (MAGIC.len() + line.len()) as u64;
    let cut_short = || {
        BackupError::Damaged(format!(
            "{} is cut short or damaged: it has no valid end marker (was it copied whole?); nothing was restored",
            path.display()
        ))
    };
    if size < body_start + TRAILER_LEN as u64 {
        return Err(cut_short());
    }
    // Signed, or (a city without a key, or a backup from before signing) not.
    let mut found = None;
    for len in [SIGNED_TRAILER_LEN, TRAILER_LEN] {
        if size < body_start + len as u64 {
            continue;
        }
        let mut trailer = vec![0; len];
        f.seek(SeekFrom::Start(size - len as u64))
            .and_then(|_| f.read_exact(&mut trailer))
            .map_err(BackupError::io(named("reading")))?;
        if let Some(t) = String::from_utf8(trailer)
            .ok()
            .as_deref()
            .and_then(parse_trailer)
        {
            found = Some((len, t));
            break;
        }
    }
    let (len, (sum, bytes, signature)) = found.ok_or_else(cut_short)?;
    let covered = size - len as u64;
    if bytes != covered {
        return Err(BackupError::Damaged(format!(
            "{} is {} bytes where its end marker says {}: it was cut short or added to; nothing was restored",
            path.display(),
            covered,
            bytes
        )));
    }
    f.seek(SeekFrom::Start(0))
        .map_err(BackupError::io(named("reading")))?;
    let mut hash = Sha256::new();
    let mut left = covered;
    let mut buf = vec![0; 1 << 20];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = f
            .read(&mut buf[..want])
            .map_err(BackupError::io(named("reading")))?;
        if n == 0 {
            return Err(cut_short());
        }
        hash.update(&buf[..n]);
        left -= n as u64;
    }
    if hex(&hash.finalize()) != sum {
        return Err(BackupError::Damaged(format!(
            "{} is damaged: its checksum does not match its contents (a byte changed on the way); nothing was restored",
            path.display()
        )));
    }
    let header: Header = serde_json::from_slice(&line).map_err(|e| {
        BackupError::Damaged(format!("{}: its header is damaged: {e}", path.display()))
    })?;
    if header.format > FORMAT {
        return Err(BackupError::Newer(header.format));
    }
    if header.compression != "zstd" {
        return Err(BackupError::Damaged(format!(
            "{}: unknown compression {:?}",
            path.display(),
            header.compression
        )));
    }
    Ok(Checked {
        header,
        size,
        sum: (sum, covered),
        signature,
        body_start,
        body_len: covered - body_start,
    })
}

/// The trailer's checksum, the length it covers, and its signature if signed.
fn parse_trailer(t: &str) -> Option<(String, u64, Option<String>)> {
    let hexes = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let rest = t.strip_prefix(END)?.strip_prefix(" sha256:")?;
    let (sum, rest) = rest.split_at_checked(64)?;
    let rest = rest.strip_prefix(" bytes:")?.strip_suffix('\n')?;
    let (bytes, signature) = match rest.split_once(" hmac-sha256:") {
        Some((b, sig)) if hexes(sig) => (b, Some(sig.to_string())),
        Some(_) => return None,
        None => (rest, None),
    };
    if !hexes(sum) || bytes.len() != 20 {
        return None;
    }
    Some((sum.to_string(), bytes.parse().ok()?, signature))
}

impl Checked {
    /// The body's lines, decompressed, one at a time.
    pub(super) fn lines(&self, path: &Path) -> Result<BodyLines, BackupError> {
        let mut f = std::fs::File::open(path)
            .map_err(BackupError::io(format!("opening {}", path.display())))?;
        f.seek(SeekFrom::Start(self.body_start))
            .map_err(BackupError::io(format!("reading {}", path.display())))?;
        let body = BufReader::with_capacity(1 << 20, f.take(self.body_len));
        let mut decoder = zstd::stream::read::Decoder::with_buffer(body)
            .map_err(BackupError::io("starting to decompress"))?;
        decoder
            .window_log_max(WINDOW_LOG_MAX)
            .map_err(BackupError::io("starting to decompress"))?;
        Ok(BodyLines {
            reader: BufReader::with_capacity(1 << 20, decoder),
            line: 0,
            buf: String::new(),
        })
    }
}

/// The body's lines as they are read.
pub(super) struct BodyLines {
    reader:
        BufReader<zstd::stream::read::Decoder<'static, BufReader<std::io::Take<std::fs::File>>>>,
    line: u64,
    buf: String,
}

impl BodyLines {
    /// The next line, None at the end of the body.
    pub(super) fn next_line(&mut self) -> Result<Option<Line>, BackupError> {
        self.buf.clear();
        // Never more than a line's worth held, whatever the file says: a line with no end
        // is refused as soon as it passes the limit.
        let n = (&mut self.reader)
            .take(LINE_MAX as u64 + 1)
            .read_line(&mut self.buf)
            .map_err(|e| BackupError::Damaged(format!("the body cannot be decompressed: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if n > LINE_MAX {
            return Err(BackupError::Damaged(format!(
                "line {} of the body is longer than {} MiB: not a backup shaozi wrote; nothing was restored",
                self.line,
                LINE_MAX >> 20
            )));
        }
        serde_json::from_str(self.buf.trim_end_matches('\n'))
            .map(Some)
            .map_err(|e| BackupError::Damaged(format!("line {} of the body: {e}", self.line)))
    }
}
