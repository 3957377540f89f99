//! The spool: where a durable command's record becomes durable.
//!
//! Committing each group of durable commands as a SQLite transaction costs
//! a B-tree update per index, a WAL frame per touched page and the file
//! locks, for a handful of records at a time. The spool makes the same
//! records durable with one write (and one `fdatasync` when `fsync` is
//! on) to a plain file; the writer then fills the store from memory in
//! large batches, behind the commands. Should the process die first, the
//! next start replays what the spool holds into the store ([`replay`]).
//!
//! A spool is a directory of segments `NNNNNNNNNNNN.spool`, each a run of
//! frames: `u32` payload length (little-endian), SHA-256 of the segment's
//! number (`u64`, little-endian) followed by the payload, then the payload
//! (JSON of the batch's write ops). Replay reads a segment up to the first
//! place that is not such a frame: a frame cut short by a crash (never
//! acknowledged, so its commands never ran), or bytes no frame has been
//! written over yet.
//!
//! With `fsync`, frames are written over blocks the file already has: a
//! flush that also had to record a larger file size (an append) costs a
//! second write to the disk, and on the machine the benchmarks run on a
//! flush took about a third longer for it (bench/RESULTS.md). So a new
//! spool starts with two segments written full of zeros, and a segment
//! whose frames are all in the store is kept as the spare the next segment
//! is renamed from, rather than deleted. The segment number in every
//! frame's hash is what tells a frame from a leftover of the segment's
//! earlier life. Replay also accepts a frame hashed over its payload alone,
//! as spools written before the number was hashed are.
//!
//! With `fsync`, frames go to the disk directly (`O_DIRECT | O_DSYNC`):
//! each append is one write of whole blocks (the last block's earlier
//! bytes, the frame, zeros up to the block's end) that returns once the
//! disk has it. Through the page cache, the same append took a write, a
//! write-back of the dirty pages and a flush: 60–70 % more CPU and a
//! third more time per append on the machines the benchmarks ran on
//! (bench/RESULTS.md, twelfth and fourteenth runs). A file system that
//! refuses direct I/O gets the page-cache path.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Store, StoreError, WriteOp};

/// Size beyond which the spool goes on in a new segment.
const SEGMENT_BYTES: u64 = 8 << 20;
const HEADER: usize = 4 + 32;
/// Larger than any batch the writer makes; a length beyond it is damage.
const MAX_FRAME: usize = 256 << 20;
const SUFFIX: &str = "spool";
/// A segment kept for reuse; replay ignores it, and a new spool deletes it.
const SPARE_SUFFIX: &str = "spare";
/// What direct writes are aligned to: a multiple of any disk's logical
/// block size.
const BLOCK: usize = 4096;

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
    /// Segments no longer written to, with the position their last frame
    /// ends at.
    sealed: VecDeque<(u64, Position)>,
    /// A segment whose frames are all in the store, kept (with `fsync`) to
    /// become the next segment: writing over its blocks spares each flush
    /// a change of the file's size.
    spare: Option<PathBuf>,
    /// [`SEGMENT_BYTES`], smaller in tests.
    segment_bytes: u64,
    /// Set while `file` writes directly to the disk; see the module's
    /// documentation.
    direct: Option<DirectWrites>,
    /// Whether new segments try direct writes: off once the first segment's
    /// file system refused them, and in tests of the page-cache path.
    try_direct: bool,
}

/// What writing whole blocks needs: the bytes of the segment's last,
/// partly written block, and a buffer aligned as direct I/O requires.
struct DirectWrites {
    tail: Vec<u8>,
    buffer: Vec<u8>,
}

impl DirectWrites {
    fn new() -> DirectWrites {
        DirectWrites {
            tail: Vec::new(),
            buffer: Vec::new(),
        }
    }

    /// Writes `frame` at byte `at` of `file`, with the block around it
    /// kept whole, and returns once the disk has it (`O_DSYNC`).
    fn write(&mut self, file: &File, frame: &[u8], at: u64) -> io::Result<()> {
        let start = at - self.tail.len() as u64;
        let used = self.tail.len() + frame.len();
        let len = used.div_ceil(BLOCK) * BLOCK;
        if self.buffer.len() < len + BLOCK {
            self.buffer = vec![0u8; (len + BLOCK).next_power_of_two()];
        }
        let skip = self.buffer.as_ptr().align_offset(BLOCK);
        let out = self
            .buffer
            .get_mut(skip..skip + len)
            .ok_or_else(|| io::Error::other("spool buffer cannot be aligned"))?;
        out[..self.tail.len()].copy_from_slice(&self.tail);
        out[self.tail.len()..used].copy_from_slice(frame);
        out[used..].fill(0);
        // One write: the rest of an interrupted direct write would no
        // longer be aligned, so a short one fails the append.
        let written = file.write_at(out, start)?;
        if written != len {
            return Err(io::Error::other(format!(
                "short direct write to the spool: {written} of {len} bytes"
            )));
        }
        let tail_len = used % BLOCK;
        self.tail.clear();
        self.tail.extend_from_slice(&out[used - tail_len..used]);
        Ok(())
    }
}

impl Spool {
    /// Opens a new segment after any already in `dir` (which [`replay`]
    /// should have emptied), or the last one if nothing is in it. With
    /// `fsync`, the new segment and a spare are first written full of
    /// zeros (see the module's documentation).
    pub fn open(dir: &Path, fsync: bool) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        // Spares of an earlier run: segment numbers start again after a
        // replay, so their leftover frames could pass for new ones.
        for path in files_with_suffix(dir, SPARE_SUFFIX)? {
            fs::remove_file(path)?;
        }
        let next = match segments(dir)?.last() {
            Some((n, path)) if fs::metadata(path)?.len() == 0 => *n,
            Some((n, _)) => n + 1,
            None => 1,
        };
        let file = create_segment(dir, next, fsync)?;
        let mut spare = None;
        if fsync {
            zero_fill(&file)?;
            let path = spare_path(dir, next);
            zero_fill(&fresh_file(&path)?)?;
            sync_dir(dir)?;
            spare = Some(path);
        }
        let (file, direct) = frames_go_to(file, &segment_path(dir, next), fsync)?;
        let try_direct = direct.is_some();
        Ok(Spool {
            dir: dir.to_path_buf(),
            fsync,
            segment: next,
            file,
            size: 0,
            sealed: VecDeque::new(),
            spare,
            segment_bytes: SEGMENT_BYTES,
            direct,
            try_direct,
        })
    }

    /// Whether an append waits for the disk.
    pub fn flushes(&self) -> bool {
        self.fsync
    }

    /// Writes one batch as the segment's next frame and, with `fsync`,
    /// flushes it to disk. Returns the frame's position once it is as
    /// durable as configured.
    pub fn append(&mut self, ops: &[WriteOp]) -> io::Result<Position> {
        if self.size >= self.segment_bytes {
            self.rotate()?;
        }
        // The frame is built in one buffer, its header in front of the
        // payload, so that it goes to the file in one write.
        let mut frame = vec![0u8; HEADER];
        serde_json::to_writer(&mut frame, ops).map_err(io::Error::other)?;
        let payload_len = frame.len() - HEADER;
        let len = u32::try_from(payload_len)
            .map_err(|_| io::Error::other("batch too large for the spool"))?;
        let hash = frame_hash(self.segment, &frame[HEADER..]);
        frame[..4].copy_from_slice(&len.to_le_bytes());
        frame[4..HEADER].copy_from_slice(&hash);
        // Written at the end of the last whole frame: what a failed write
        // left of this one is written over by the next, so it never hides
        // later frames from replay.
        if let Some(direct) = self.direct.as_mut() {
            if let Err(e) = direct.write(&self.file, &frame, self.size) {
                // The block's earlier frames were written again with the
                // same bytes, so however much of the write landed, they
                // read as before; the new frame is refused.
                self.abandon_segment();
                return Err(e);
            }
            self.size += frame.len() as u64;
            return Ok(position(self.segment, self.size));
        }
        if let Err(e) = self.file.write_all_at(&frame, self.size) {
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

    /// Lets go of the segments whose frames are all in the store: one is
    /// kept as the spare (with `fsync`), the others deleted.
    pub fn release(&mut self, landed: Position) {
        while let Some(&(segment, end)) = self.sealed.front() {
            if end > landed {
                break;
            }
            self.sealed.pop_front();
            let path = segment_path(&self.dir, segment);
            if self.fsync && self.spare.is_none() {
                let spare = spare_path(&self.dir, segment);
                match fs::rename(&path, &spare) {
                    Ok(()) => {
                        self.spare = Some(spare);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot keep a spool segment already in the store as a spare");
                    }
                }
            }
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
        let file = match self.spare.take() {
            Some(spare) => match reuse_spare(&spare, &self.dir, next) {
                Ok(file) => file,
                Err(e) => {
                    tracing::warn!(path = %spare.display(), error = %e, "cannot reuse the spare spool segment");
                    let _ = fs::remove_file(&spare);
                    create_segment(&self.dir, next, self.fsync)?
                }
            },
            None => create_segment(&self.dir, next, self.fsync)?,
        };
        let (file, direct) = frames_go_to(
            file,
            &segment_path(&self.dir, next),
            self.fsync && self.try_direct,
        )?;
        self.sealed
            .push_back((self.segment, position(self.segment, self.size)));
        self.segment = next;
        self.file = file;
        self.direct = direct;
        self.size = 0;
        Ok(())
    }
}

/// What a frame of segment `segment` carries as its hash.
fn frame_hash(segment: u64, payload: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(segment.to_le_bytes());
    hash.update(payload);
    hash.finalize().into()
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:012}.{SUFFIX}"))
}

fn spare_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:012}.{SPARE_SUFFIX}"))
}

/// An empty file at `path`, whatever was there.
fn fresh_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
}

fn create_segment(dir: &Path, n: u64, fsync: bool) -> io::Result<File> {
    let file = fresh_file(&segment_path(dir, n))?;
    if fsync {
        // The new name must survive a power cut along with what is
        // written under it.
        sync_dir(dir)?;
    }
    Ok(file)
}

/// The spare becomes segment `n`; its leftover frames were hashed with
/// another segment's number, so replay stops at the first of them.
fn reuse_spare(spare: &Path, dir: &Path, n: u64) -> io::Result<File> {
    let path = segment_path(dir, n);
    fs::rename(spare, &path)?;
    sync_dir(dir)?;
    OpenOptions::new().write(true).open(path)
}

/// The file a segment's frames are written through: if `direct`, the
/// segment opened again for direct, synchronous writes, unless its file
/// system refuses them (`EINVAL`).
fn frames_go_to(file: File, path: &Path, direct: bool) -> io::Result<(File, Option<DirectWrites>)> {
    if !direct {
        return Ok((file, None));
    }
    match OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
        .open(path)
    {
        Ok(direct) => Ok((direct, Some(DirectWrites::new()))),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            tracing::debug!(path = %path.display(), "no direct I/O here; the spool writes through the page cache");
            Ok((file, None))
        }
        Err(e) => Err(e),
    }
}

/// Gives `file` a segment's worth of zeros, on disk.
fn zero_fill(file: &File) -> io::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < SEGMENT_BYTES {
        file.write_all_at(&zeros, at)?;
        at += zeros.len() as u64;
    }
    file.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The segments in `dir`, oldest first.
fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for path in files_with_suffix(dir, SUFFIX)? {
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

fn files_with_suffix(dir: &Path, suffix: &str) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(suffix) {
            found.push(path);
        }
    }
    Ok(found)
}

/// Every whole frame of segment `segment`, in order, and whether it ended
/// in something that is not a frame but not all zeros either: a frame cut
/// short, or leftovers of a spare's earlier life.
fn frames(path: &Path, segment: u64) -> io::Result<(Vec<Vec<WriteOp>>, bool)> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut rest = &bytes[..];
    let mut batches = Vec::new();
    while !rest.is_empty() {
        let Some((header, body)) = rest.split_at_checked(HEADER) else {
            return Ok((batches, rest.iter().any(|b| *b != 0)));
        };
        if header.iter().all(|b| *b == 0) {
            // Where the zeros a new segment was written full of begin.
            return Ok((batches, false));
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[..4]);
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_FRAME {
            return Ok((batches, true));
        }
        let Some((payload, after)) = body.split_at_checked(len) else {
            return Ok((batches, true));
        };
        let ours = frame_hash(segment, payload)[..] == header[4..];
        if !ours && Sha256::digest(payload)[..] != header[4..] {
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
    for (segment, path) in &found {
        let (batches, cut) =
            frames(path, *segment).map_err(|e| unavailable(&path.display().to_string(), e))?;
        if cut {
            tracing::info!(segment = %path.display(), whole_frames = batches.len(), "spool segment ends in a frame cut short (never acknowledged) or in leftovers of its earlier use; read up to there");
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

    /// A spare becomes a later segment with the earlier segment's frames
    /// still in it: replay reads the new frames only, because the old ones
    /// were hashed with another segment number. Through the page cache:
    /// direct writes fill the rest of a frame's last block with zeros, so
    /// leftovers follow a new frame only where it ends a block.
    #[test]
    fn a_reused_segment_replays_only_its_new_frames() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = Spool::open(dir.path(), true).expect("open");
        spool.try_direct = false;
        spool.segment_bytes = 400;
        // An empty batch makes a 38-byte frame: 11 fill a segment.
        for _ in 0..11 {
            spool.append(&[]).expect("append");
        }
        spool.append(&[]).expect("append into segment 2");
        assert_eq!(spool.segment, 2);
        spool.release(Position::MAX);
        assert!(spool.spare.is_some(), "segment 1 not kept as the spare");
        for _ in 0..10 {
            spool.append(&[]).expect("append");
        }
        for _ in 0..3 {
            spool.append(&[]).expect("append into segment 3");
        }
        assert_eq!(spool.segment, 3);

        let (second, leftovers) = frames(&segment_path(dir.path(), 2), 2).expect("read 2");
        assert_eq!((second.len(), leftovers), (11, false));
        let (third, leftovers) = frames(&segment_path(dir.path(), 3), 3).expect("read 3");
        assert_eq!(third.len(), 3, "frames of segment 1 read as segment 3's");
        assert!(leftovers);
    }

    fn command(n: usize, text_len: usize) -> WriteOp {
        WriteOp::Command(crate::CommandRecord {
            id: format!("s-{n}"),
            session_id: "s".into(),
            identity: "alice".into(),
            connection: "app".into(),
            at: chrono::Utc::now(),
            command: "x".repeat(text_len).into(),
            params: Default::default(),
            verdict: "allow".into(),
            rules: Vec::new(),
            review: None,
        })
    }

    fn ids(batches: &[Vec<WriteOp>]) -> Vec<Vec<String>> {
        let id = |op: &WriteOp| match op {
            WriteOp::Command(c) => c.id.clone(),
            _ => String::new(),
        };
        batches.iter().map(|b| b.iter().map(id).collect()).collect()
    }

    /// Direct writes rewrite the last block's earlier bytes with every
    /// frame: frames that end anywhere in a block, span several, or fill
    /// one exactly all read back whole and in order, also into a second
    /// segment and after the spool is opened again.
    #[test]
    fn frames_written_directly_read_back_whole_and_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = Spool::open(dir.path(), true).expect("open");
        assert!(
            spool.direct.is_some(),
            "the test directory's file system should take direct writes"
        );
        spool.segment_bytes = 64 << 10;
        let mut written = Vec::new();
        for n in 0..60 {
            let batch: Vec<WriteOp> = (0..n % 4)
                .map(|i| command(n * 10 + i, (n * 397 + i * 1000) % 9000))
                .collect();
            spool.append(&batch).expect("append");
            written.push(batch);
        }
        assert!(
            spool.segment > 1,
            "the frames should fill more than a segment"
        );
        let mut read = Vec::new();
        for (segment, path) in segments(dir.path()).expect("segments") {
            let (batches, leftovers) = frames(&path, segment).expect("read");
            assert!(!leftovers, "segment {segment} ends in damage");
            read.extend(batches);
        }
        assert_eq!(ids(&read), ids(&written));
    }

    /// Segments written before frames hashed their segment's number are
    /// still replayed whole.
    #[test]
    fn frames_hashed_over_their_payload_alone_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = segment_path(dir.path(), 7);
        let mut bytes = Vec::new();
        for _ in 0..2 {
            let payload = b"[]";
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&Sha256::digest(payload));
            bytes.extend_from_slice(payload);
        }
        fs::write(&path, &bytes).expect("write");
        let (read, cut) = frames(&path, 7).expect("read");
        assert_eq!((read.len(), cut), (2, false));
    }
}
