//! The file sink: JSON lines appended to a file, rotated by size.
//!
//! Each batch is written with one `write` and flushed to disk before the
//! cursor moves, so what the cursor says was delivered survives a power
//! cut; the cost is one flush per batch, not per record. Rotation is done
//! here (`audit.jsonl` → `audit.jsonl.1` → … → `.keep`), so the file must
//! not also be rotated by an outside tool: Airlock would keep writing to
//! the file that tool moved away.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use airlock_store::AuditRecordLine;
use anyhow::Context;

use super::follow::Deliver;

pub struct FileSink {
    target: Target,
    /// Taken while a batch is written on a blocking thread; `None` after a
    /// failure too, so the next attempt reopens the file.
    open: Option<Open>,
}

#[derive(Debug, Clone)]
struct Target {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
}

struct Open {
    file: File,
    /// Bytes in the current file.
    size: u64,
}

impl FileSink {
    pub fn new(path: &Path, max_bytes: u64, keep: u32) -> anyhow::Result<FileSink> {
        if max_bytes == 0 {
            anyhow::bail!("max_bytes must be at least 1");
        }
        Ok(FileSink {
            target: Target {
                path: path.to_path_buf(),
                max_bytes,
                keep,
            },
            open: None,
        })
    }
}

impl Deliver for FileSink {
    async fn deliver(&mut self, records: &[AuditRecordLine]) -> anyhow::Result<()> {
        let mut lines = Vec::with_capacity(records.len());
        for r in records {
            let mut line = serde_json::to_vec(r).context("encoding a record")?;
            line.push(b'\n');
            lines.push(line);
        }
        let target = self.target.clone();
        let open = self.open.take();
        let (open, result) = tokio::task::spawn_blocking(move || {
            let mut open = open;
            let result = target.append(&mut open, &lines);
            (open, result)
        })
        .await
        .context("the file writer thread failed")?;
        self.open = open;
        result.with_context(|| format!("writing {}", self.target.path.display()))
    }
}

impl Target {
    /// Appends whole lines, rotating before a line that would take the
    /// file past `max_bytes` (a line longer than that gets a file of its
    /// own rather than being split).
    fn append(&self, open: &mut Option<Open>, lines: &[Vec<u8>]) -> io::Result<()> {
        let mut chunk = Vec::new();
        for line in lines {
            let current = self.current(open)?;
            let used = current.size + chunk.len() as u64;
            if used > 0 && used + line.len() as u64 > self.max_bytes {
                self.write(open, &chunk)?;
                chunk.clear();
                *open = None;
                self.rotate()?;
            }
            chunk.extend_from_slice(line);
        }
        self.write(open, &chunk)
    }

    fn current<'a>(&self, open: &'a mut Option<Open>) -> io::Result<&'a mut Open> {
        if open.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            let size = file.metadata()?.len();
            *open = Some(Open { file, size });
        }
        open.as_mut()
            .ok_or_else(|| io::Error::other("file sink lost its file"))
    }

    /// Writes and flushes `chunk`. On failure the file is cut back to where
    /// it was, so the retry does not follow half a line, and closed.
    fn write(&self, open: &mut Option<Open>, chunk: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let current = self.current(open)?;
        let before = current.size;
        let written = current
            .file
            .write_all(chunk)
            .and_then(|()| current.file.sync_data());
        match written {
            Ok(()) => {
                current.size += chunk.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = current.file.set_len(before);
                *open = None;
                Err(e)
            }
        }
    }

    fn rotate(&self) -> io::Result<()> {
        if self.keep == 0 {
            ignore_missing(std::fs::remove_file(&self.path))?;
        } else {
            ignore_missing(std::fs::remove_file(self.numbered(self.keep)))?;
            for n in (1..self.keep).rev() {
                ignore_missing(std::fs::rename(self.numbered(n), self.numbered(n + 1)))?;
            }
            std::fs::rename(&self.path, self.numbered(1))?;
        }
        sync_dir(&self.path);
        Ok(())
    }

    /// `audit.jsonl.N`, in the same directory.
    fn numbered(&self, n: u32) -> PathBuf {
        let mut name = OsString::from(self.path.as_os_str());
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Makes the renames of a rotation durable. Best effort: the data itself
/// is already flushed, and a lost rename only leaves a file unrotated.
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(dir: &Path, max_bytes: u64, keep: u32) -> Target {
        Target {
            path: dir.join("sub/audit.jsonl"),
            max_bytes,
            keep,
        }
    }

    fn lines(from: u32, to: u32) -> Vec<Vec<u8>> {
        (from..=to)
            .map(|n| format!("{n:04}\n").into_bytes())
            .collect()
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn rotates_before_a_line_would_overflow_and_keeps_at_most_keep() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = target(dir.path(), 10, 2);
        let mut open = None;
        t.append(&mut open, &lines(1, 3)).expect("append");
        t.append(&mut open, &lines(4, 7)).expect("append");
        assert_eq!(read(&t.path), "0007\n");
        assert_eq!(read(&t.numbered(1)), "0005\n0006\n");
        assert_eq!(read(&t.numbered(2)), "0003\n0004\n");
        assert!(!t.numbered(3).exists());
    }

    #[test]
    fn a_line_longer_than_the_limit_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = target(dir.path(), 3, 1);
        let mut open = None;
        t.append(&mut open, &lines(1, 2)).expect("append");
        assert_eq!(read(&t.path), "0002\n");
        assert_eq!(read(&t.numbered(1)), "0001\n");
    }

    #[test]
    fn keep_zero_discards_the_full_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = target(dir.path(), 5, 0);
        let mut open = None;
        t.append(&mut open, &lines(1, 2)).expect("append");
        assert_eq!(read(&t.path), "0002\n");
        assert!(!t.numbered(1).exists());
    }

    #[test]
    fn an_existing_file_is_appended_to_and_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = target(dir.path(), 10, 1);
        t.append(&mut None, &lines(1, 1)).expect("append");
        t.append(&mut None, &lines(2, 3)).expect("append");
        assert_eq!(read(&t.path), "0003\n");
        assert_eq!(read(&t.numbered(1)), "0001\n0002\n");
    }
}
