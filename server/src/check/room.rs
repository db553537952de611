//! Room on the disk for a scratch copy.

use super::CheckError;

/// Free bytes for an unprivileged writer on the file system of `dir`, if it can be told.
pub fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid C string and `st` a valid out-pointer for the call.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Refuses to start a scratch copy of `store_bytes` in `dir` unless it leaves the disk at
/// least as much again free (and 64 MiB at the least): the live store shares the disk, and
/// running it out of space stops its writes.
pub fn ensure_room(dir: &std::path::Path, store_bytes: u64) -> Result<(), CheckError> {
    let Some(have) = free_bytes(dir) else {
        return Ok(());
    };
    let reserve = store_bytes.max(64 << 20);
    let need = store_bytes.saturating_add(reserve);
    if have < need {
        return Err(CheckError::NoRoom {
            dir: dir.display().to_string(),
            need_mib: need >> 20,
            have_mib: have >> 20,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_copy_that_would_crowd_the_disk_is_refused_before_it_starts() {
        let dir = std::env::temp_dir();
        let free = free_bytes(&dir).expect("statvfs answers on a unix temp dir");
        assert!(ensure_room(&dir, 1 << 20).is_ok() || free < (65 << 20));
        match ensure_room(&dir, free) {
            Err(CheckError::NoRoom {
                need_mib, have_mib, ..
            }) => {
                assert!(need_mib > have_mib, "{need_mib} {have_mib}")
            }
            other => panic!("a copy as large as the free space must be refused: {other:?}"),
        }
    }
}
