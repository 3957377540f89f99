//! The spool: where a durable command's record becomes durable.
//!
//! Committing each group of durable commands as a SQLite transaction costs
//! a B-tree update per index, a WAL frame per touched page and the file
//! locks, for a handful of records at a time. The spool makes the same
//! records durable with one append (and one `fdatasync` when `fsync` is
//! on) to a plain file; the writer then fills the store from memory in
//! large batches, behind the commands. Should the process die first, the
//! next start replays what the spool holds into the store ([`replay`]).
//!
//! A spool is a directory of segments `NNNNNNNNNNNN.spool`, each a run of
//! frames: `u32` payload length (little-endian), SHA-256 of the payload,
//! the payload (JSON of the batch's write ops). A frame cut short by a
//! crash fails its length or hash; it was never acknowledged, so its
//! commands never ran, and it is dropped. A segment is deleted once every
//! frame in it is in the store.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Store, StoreError, WriteOp};

const SEGMENT_BYTES: u64 = 8 << 20;
const HEADER: usize = 4 + 32;
/// Larger than any batch the writer makes; a length beyond it is damage.
const MAX_FRAME: usize = 256 << 20;
const SUFFIX: &str = "spool";

/// A place in the spool: segment number in the high bits, the end of a
/// frame within it in the low 40. Later frames have larger positions.
pub type Position = u64;

fn position(segment: u64, offset: u64) -> Position {
    (segment << 40) | offset
}

/// The spool the writer appends to.
pub struct Spool {
    dir: PathBuf,
    fsync: bool,
    segment: u64,
    file: File,
    size: u64,
    /// Segments no longer appended to, with the position their last frame
    /// ends at.
    sealed: VecDeque<(u64, Position)>,
    /// The current segment ends in a frame cut short that could not be cut
    /// off: replay would stop there, so nothing more may be appended to it.
    torn: bool,
}

impl Spool {
    /// Opens a new segment after any already in `dir` (which [`replay`]
    /// should have emptied), or the last one if nothing is in it.
    pub fn open(dir: &Path, fsync: bool) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let next = match segments(dir)?.last() {
            Some((n, path)) if fs::metadata(path)?.len() == 0 => *n,
            Some((n, _)) => n + 1,
            None => 1,
        };
        let (file, size) = create_segment(dir, next, fsync)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            fsync,
            segment: next,
            file,
            size,
            sealed: VecDeque::new(),
            torn: false,
        })
    }

    /// Whether an append waits for the disk.
    pub fn flushes(&self) -> bool {
        self.fsync
    }

    /// Appends one batch as a frame and, with `fsync`, flushes it to disk.
    /// Returns the frame's position once it is as durable as configured.
    pub fn append(&mut self, ops: &[WriteOp]) -> io::Result<Position> {
        if self.size >= SEGMENT_BYTES || self.torn {
            self.rotate()?;
        }
        let payload = serde_json::to_vec(ops).map_err(io::Error::other)?;
        let mut frame = Vec::with_capacity(HEADER + payload.len());
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::other("batch too large for the spool"))?;
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&Sha256::digest(&payload));
        frame.extend_from_slice(&payload);
        if let Err(e) = self.file.write_all(&frame) {
            // A partial frame would hide every frame after it in the
            // segment from replay: cut it off.
            let partial = self.file.metadata().map_or(true, |m| m.len() != self.size);
            self.torn = partial && self.file.set_len(self.size).is_err();
            self.abandon_segment();
            return Err(e);
        }
        self.size += frame.len() as u64;
        if self.fsync
            && let Err(e) = self.file.sync_data()
        {
            // After a failed flush the kernel may have dropped the pages
            // it could not write; a later flush of this file proves
            // nothing about them.
            self.abandon_segment();
            return Err(e);
        }
        Ok(position(self.segment, self.size))
    }

    /// Deletes the segments whose frames are all in the store.
    pub fn release(&mut self, landed: Position) {
        while let Some(&(segment, end)) = self.sealed.front() {
            if end > landed {
                break;
            }
            self.sealed.pop_front();
            let path = segment_path(&self.dir, segment);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot delete a spool segment already in the store");
            }
        }
    }

    /// Goes on in a fresh segment after a failure, if one can be made; if
    /// not, the next append fails in this one and tries again.
    fn abandon_segment(&mut self) {
        if let Err(e) = self.rotate() {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot start a new spool segment");
        }
    }

    fn rotate(&mut self) -> io::Result<()> {
        let next = self.segment + 1;
        let (file, size) = create_segment(&self.dir, next, self.fsync)?;
        self.sealed
            .push_back((self.segment, position(self.segment, self.size)));
        self.segment = next;
        self.file = file;
        self.size = size;
        self.torn = false;
        Ok(())
    }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:012}.{SUFFIX}"))
}

fn create_segment(dir: &Path, n: u64, fsync: bool) -> io::Result<(File, u64)> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(segment_path(dir, n))?;
    if fsync {
        // The new name must survive a power cut along with what is
        // written under it.
        File::open(dir)?.sync_all()?;
    }
    let size = file.metadata()?.len();
    Ok((file, size))
}

/// The segments in `dir`, oldest first.
fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some(SUFFIX) {
            continue;
        }
        if let Some(n) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
        {
            found.push((n, path));
        }
    }
    found.sort_by_key(|(n, _)| *n);
    Ok(found)
}

/// Every whole frame of a segment, in order, and whether it ended in a
/// frame cut short.
fn frames(path: &Path) -> io::Result<(Vec<Vec<WriteOp>>, bool)> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut rest = &bytes[..];
    let mut batches = Vec::new();
    while !rest.is_empty() {
        let Some((header, body)) = rest.split_at_checked(HEADER) else {
            return Ok((batches, true));
        };
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[..4]);
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_FRAME {
            return Ok((batches, true));
        }
        let Some((payload, after)) = body.split_at_checked(len) else {
            return Ok((batches, true));
        };
        if Sha256::digest(payload)[..] != header[4..] {
            return Ok((batches, true));
        }
        // Whole and unaltered, yet unreadable: written by another version.
        // Dropping it would lose records that were acknowledged.
        let ops = serde_json::from_slice::<Vec<WriteOp>>(payload)
            .map_err(|e| io::Error::other(format!("a frame this version cannot read: {e}")))?;
        batches.push(ops);
        rest = after;
    }
    Ok((batches, false))
}

/// Writes every batch the spool holds into the store (a batch already
/// there is recognised and skipped), then deletes the segments. Returns
/// how many batches it read. A frame cut short ends its segment: it was
/// never acknowledged. Anything else that fails stops the replay with the
/// spool left as it is, so that nothing it holds is lost.
pub async fn replay(dir: &Path, store: &dyn Store) -> Result<usize, StoreError> {
    let unavailable = |what: &str, e: io::Error| {
        StoreError::Unavailable(format!("spool {}: {what}: {e}", dir.display()))
    };
    if !dir.exists() {
        return Ok(0);
    }
    let found = segments(dir).map_err(|e| unavailable("reading the directory", e))?;
    let mut replayed = 0;
    for (_, path) in &found {
        let (batches, cut) =
            frames(path).map_err(|e| unavailable(&path.display().to_string(), e))?;
        if cut {
            tracing::warn!(segment = %path.display(), whole_frames = batches.len(), "spool segment ends in a frame cut short (never acknowledged); dropping that frame");
        }
        for ops in &batches {
            store.write_batch(ops).await?;
        }
        replayed += batches.len();
    }
    for (_, path) in &found {
        fs::remove_file(path).map_err(|e| unavailable(&path.display().to_string(), e))?;
    }
    if replayed > 0 {
        tracing::info!(
            batches = replayed,
            "replayed the audit spool into the store"
        );
    }
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a frame cut short that could not be cut off, the next append
    /// goes to a new segment: frames after the torn one would be invisible
    /// to replay.
    #[test]
    fn a_torn_segment_takes_no_more_frames() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = Spool::open(dir.path(), false).expect("open");
        spool.append(&[]).expect("first frame");
        let first = fs::metadata(segment_path(dir.path(), 1))
            .expect("segment 1")
            .len();
        spool.torn = true;
        spool.append(&[]).expect("second frame");
        assert_eq!(
            fs::metadata(segment_path(dir.path(), 1))
                .expect("segment 1")
                .len(),
            first,
            "appended to the torn segment"
        );
        assert!(
            fs::metadata(segment_path(dir.path(), 2))
                .expect("segment 2")
                .len()
                > 0
        );
        assert!(!spool.torn);
    }
}
