//! A custom scheduler slice for the calling thread: `sched_setattr` with
//! `sched_runtime` under the normal policy, which Linux reads as the
//! thread's slice since 6.12 (EEVDF) and earlier kernels ignore. The call
//! needs no privilege: a slice changes how soon a thread runs when woken,
//! not its share of the CPU.

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SliceError {
    #[error("sched_setattr refused the slice: {0}")]
    Refused(std::io::Error),
    #[error("sched_getattr failed: {0}")]
    Unreadable(std::io::Error),
    #[error(
        "this kernel does not keep custom slices (asked for {asked:?}, has {kept:?}); Linux 6.12 or later does"
    )]
    NotKept { asked: Duration, kept: Duration },
    #[error("custom scheduler slices exist only on Linux")]
    NotLinux,
}

/// `struct sched_attr` as of Linux 4.x (`SCHED_ATTR_SIZE_VER0`, 48 bytes),
/// which every kernel with the call accepts.
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

/// Asks for `slice` for the calling thread, keeping its policy
/// (`SCHED_OTHER`) and nice value, and reads it back: a kernel before 6.12
/// accepts the call and drops the slice.
#[cfg(target_os = "linux")]
pub fn ask_for(slice: Duration) -> Result<(), SliceError> {
    let mut attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        // SCHED_OTHER: 0. `sched_setattr` sets the nice value too: the
        // thread keeps its own.
        policy: 0,
        nice: read_attr(0)?.nice,
        runtime: u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX),
        ..SchedAttr::default()
    };
    // SAFETY: `attr` is a live `sched_attr` whose `size` field is its own
    // size, for the whole call; pid 0 is the calling thread; flags are 0.
    let set = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &mut attr as *mut SchedAttr, 0) };
    if set != 0 {
        return Err(SliceError::Refused(std::io::Error::last_os_error()));
    }
    let kept = of_thread(0)?;
    if kept != slice {
        return Err(SliceError::NotKept { asked: slice, kept });
    }
    Ok(())
}

/// The slice the kernel keeps for thread `tid` (0: the calling thread):
/// one asked for, or the default (which kernels before 6.12 report as 0).
#[cfg(target_os = "linux")]
pub fn of_thread(tid: i32) -> Result<Duration, SliceError> {
    Ok(Duration::from_nanos(read_attr(tid)?.runtime))
}

#[cfg(target_os = "linux")]
fn read_attr(tid: i32) -> Result<SchedAttr, SliceError> {
    let mut attr = SchedAttr::default();
    let size = std::mem::size_of::<SchedAttr>() as u32;
    // SAFETY: `attr` is a live `sched_attr` of `size` bytes, which is as
    // much as the kernel writes; flags are 0.
    let got = unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            tid,
            &mut attr as *mut SchedAttr,
            size,
            0,
        )
    };
    if got != 0 {
        return Err(SliceError::Unreadable(std::io::Error::last_os_error()));
    }
    Ok(attr)
}

#[cfg(not(target_os = "linux"))]
pub fn ask_for(_slice: Duration) -> Result<(), SliceError> {
    Err(SliceError::NotLinux)
}

#[cfg(not(target_os = "linux"))]
pub fn of_thread(_tid: i32) -> Result<Duration, SliceError> {
    Err(SliceError::NotLinux)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// On a kernel with custom slices the thread keeps what it asked for;
    /// on one without, the refusal says so rather than passing silently.
    #[test]
    fn a_thread_gets_the_slice_it_asks_for_or_is_told_why_not() {
        std::thread::spawn(|| {
            // 6.12 and later report the default slice (1.4 ms on the
            // machine this was written on); earlier kernels report 0.
            let default = of_thread(0).expect("read the default");
            assert_ne!(default, Duration::from_micros(100));
            match ask_for(Duration::from_micros(100)) {
                Ok(()) => assert_eq!(of_thread(0).expect("read back"), Duration::from_micros(100)),
                Err(SliceError::NotKept { kept, .. }) => assert_eq!(kept, default),
                Err(e) => panic!("unexpected: {e}"),
            }
        })
        .join()
        .expect("thread");
    }
}
