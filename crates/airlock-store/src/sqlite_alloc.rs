//! SQLite on the process's allocator.
//!
//! The audit store's SQLite allocates for every row it writes. Left to its
//! defaults it calls the C library's `malloc`, and counts each allocation
//! under a process-wide mutex for memory statistics the gateway never
//! reads; together about a sixth of the store thread's CPU under pgbench
//! (bench/RESULTS.md, tenth run). Here it allocates from mimalloc (the
//! gateway's global allocator) and keeps no statistics.

use std::ffi::{c_int, c_void};

use libsqlite3_sys as ffi;

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc};

// In the same mimalloc, but exposed by the `-sys` crate only behind a
// feature that pulls in another crate for two C types.
unsafe extern "C" {
    fn mi_usable_size(p: *const c_void) -> usize;
    fn mi_good_size(size: usize) -> usize;
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    match usize::try_from(n) {
        // SAFETY: mimalloc accepts any size and returns null on failure,
        // which SQLite reports as SQLITE_NOMEM.
        Ok(n) => unsafe { mi_malloc(n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    // SAFETY: SQLite frees only what `x_malloc`/`x_realloc` returned.
    unsafe { mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    match usize::try_from(n) {
        // SAFETY: `p` came from `x_malloc`/`x_realloc`; on failure it is
        // left as it was, which is what SQLite expects.
        Ok(n) => unsafe { mi_realloc(p, n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    // SAFETY: `p` came from `x_malloc`/`x_realloc` (SQLite never asks
    // about null). SQLite caps its allocations far below `c_int::MAX`.
    let size = unsafe { mi_usable_size(p) };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    match usize::try_from(n) {
        // SAFETY: a pure function of its argument.
        Ok(n) => c_int::try_from(unsafe { mi_good_size(n) }).unwrap_or(c_int::MAX),
        Err(_) => n,
    }
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// SQLite keeps the pointer it is given, so the table lives for good.
struct Methods(ffi::sqlite3_mem_methods);

// SAFETY: the table is never written after it is built, and its one raw
// pointer (`pAppData`) is null.
unsafe impl Sync for Methods {}

static METHODS: Methods = Methods(ffi::sqlite3_mem_methods {
    xMalloc: Some(x_malloc),
    xFree: Some(x_free),
    xRealloc: Some(x_realloc),
    xSize: Some(x_size),
    xRoundup: Some(x_roundup),
    xInit: Some(x_init),
    xShutdown: Some(x_shutdown),
    pAppData: std::ptr::null_mut(),
});

/// Points SQLite at mimalloc and turns its memory statistics off. Must run
/// before SQLite is first used (SQLite refuses it afterwards, with
/// `SQLITE_MISUSE`); it is then a no-op, so SQLite keeps its defaults,
/// which work, only slower.
pub fn install() -> Result<(), c_int> {
    // SAFETY: `sqlite3_config` is called before any other SQLite call in
    // the process, from its one thread, with the argument types each
    // option documents: a pointer to a `sqlite3_mem_methods` that outlives
    // the process's use of SQLite, and an `int`.
    let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const METHODS.0) };
    if rc != ffi::SQLITE_OK {
        return Err(rc);
    }
    let off: c_int = 0;
    // SAFETY: as above.
    let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, off) };
    if rc != ffi::SQLITE_OK {
        return Err(rc);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Allocation through the installed methods: what SQLite gets back is
    /// usable, sized at least as asked, and survives growing.
    #[test]
    fn the_methods_allocate_resize_and_free() {
        let m = &super::METHODS.0;
        let (Some(malloc), Some(realloc), Some(size), Some(free), Some(roundup)) =
            (m.xMalloc, m.xRealloc, m.xSize, m.xFree, m.xRoundup)
        else {
            panic!("every method is set");
        };
        // SAFETY: the methods are used as SQLite uses them.
        unsafe {
            let p = malloc(100).cast::<u8>();
            assert!(!p.is_null());
            assert!(size(p.cast()) >= 100);
            assert_eq!(p.align_offset(8), 0, "SQLite needs 8-byte alignment");
            std::ptr::write_bytes(p, 7, 100);
            let q = realloc(p.cast(), 5000).cast::<u8>();
            assert!(!q.is_null());
            assert!(size(q.cast()) >= 5000);
            assert_eq!(*q.add(99), 7, "realloc keeps the contents");
            free(q.cast());
            assert!(roundup(100) >= 100);
            assert!(malloc(-1).is_null());
        }
    }
}
