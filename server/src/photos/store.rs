//! Where photos are kept: not in the log (a case's event names a photo by its content), but
//! beside it — a directory next to the store by default; an object store for several servers
//! (next). A photo is acknowledged only once it is durable where it is kept.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// Why the photos' store failed.
#[derive(Debug, thiserror::Error)]
pub enum PhotoStoreError {
    /// A name that is not a photo's (only content names are kept).
    #[error("not a photo's name: {0:?}")]
    BadName(String),
    /// The directory or the object store failed.
    #[error("photos in {place}: {why}")]
    Io {
        /// Where.
        place: String,
        /// What failed.
        why: String,
    },
}

/// A store's answer, later.
pub type Later<'a, T> = Pin<Box<dyn Future<Output = Result<T, PhotoStoreError>> + Send + 'a>>;

/// Where photos are kept, by name ([`content_name`](super::content_name), or that and
/// `.preview`).
pub trait PhotoStore: Send + Sync + 'static {
    /// Keeps `bytes` as `name`, and answers once they are durable. Keeping a name already kept
    /// changes nothing (the name is the content's).
    fn put<'a>(&'a self, name: &'a str, bytes: Vec<u8>) -> Later<'a, ()>;
    /// The bytes kept as `name`, if any.
    fn get<'a>(&'a self, name: &'a str) -> Later<'a, Option<Vec<u8>>>;
    /// Every name kept, in no order (for the consistency check and backups).
    fn names(&self) -> Later<'_, Vec<String>>;
    /// Where, for messages and `check`.
    fn describe(&self) -> String;
}

/// Whether `name` is a photo's or a preview's: 64 lowercase hex digits, maybe `.preview`.
pub fn is_photo_name(name: &str) -> bool {
    let hash = name.strip_suffix(".preview").unwrap_or(name);
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Photos in a directory: `ab/abcd…` (two hex digits a folder, so no folder holds millions).
/// A photo is written to a temporary file, synced, renamed into place and its folder synced:
/// after a crash a photo is there whole or not at all.
#[derive(Clone)]
pub struct PhotoDir {
    root: PathBuf,
}

impl PhotoDir {
    /// Photos in `root` (made when missing).
    pub fn open(root: &Path) -> Result<PhotoDir, PhotoStoreError> {
        std::fs::create_dir_all(root).map_err(io_at(root))?;
        Ok(PhotoDir {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> Result<PathBuf, PhotoStoreError> {
        if !is_photo_name(name) {
            return Err(PhotoStoreError::BadName(name.to_string()));
        }
        Ok(self.root.join(&name[..2]).join(name))
    }

    fn put_now(&self, name: &str, bytes: &[u8]) -> Result<(), PhotoStoreError> {
        let path = self.path(name)?;
        if path.exists() {
            return Ok(());
        }
        let folder = path.parent().unwrap_or(&self.root).to_path_buf();
        let made = !folder.exists();
        std::fs::create_dir_all(&folder).map_err(io_at(&folder))?;
        let mut tmp = tempfile::NamedTempFile::with_prefix_in(".incoming-", &folder)
            .map_err(io_at(&folder))?;
        tmp.write_all(bytes).map_err(io_at(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io_at(tmp.path()))?;
        tmp.persist(&path).map_err(|e| io_at(&path)(e.error))?;
        sync_dir(&folder)?;
        if made {
            sync_dir(&self.root)?;
        }
        Ok(())
    }

    fn get_now(&self, name: &str) -> Result<Option<Vec<u8>>, PhotoStoreError> {
        let path = self.path(name)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_at(&path)(e)),
        }
    }

    fn names_now(&self) -> Result<Vec<String>, PhotoStoreError> {
        let mut out = Vec::new();
        for folder in std::fs::read_dir(&self.root).map_err(io_at(&self.root))? {
            let folder = folder.map_err(io_at(&self.root))?.path();
            if !folder.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&folder).map_err(io_at(&folder))? {
                let name = file.map_err(io_at(&folder))?.file_name();
                // Left by a crash mid-write (never renamed into place): not a photo.
                if let Some(name) = name.to_str().filter(|n| is_photo_name(n)) {
                    out.push(name.to_string());
                }
            }
        }
        Ok(out)
    }
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> PhotoStoreError + '_ {
    move |e| PhotoStoreError::Io {
        place: path.display().to_string(),
        why: e.to_string(),
    }
}

fn sync_dir(dir: &Path) -> Result<(), PhotoStoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

/// Runs `f` on a blocking thread: the file system may stall.
fn blocking<'a, T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PhotoStoreError> + Send + 'static,
) -> Later<'a, T> {
    Box::pin(async move {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| PhotoStoreError::Io {
                place: "a blocking thread".into(),
                why: e.to_string(),
            })?
    })
}

impl PhotoStore for PhotoDir {
    fn put<'a>(&'a self, name: &'a str, bytes: Vec<u8>) -> Later<'a, ()> {
        let (me, name) = (self.clone(), name.to_string());
        blocking(move || me.put_now(&name, &bytes))
    }

    fn get<'a>(&'a self, name: &'a str) -> Later<'a, Option<Vec<u8>>> {
        let (me, name) = (self.clone(), name.to_string());
        blocking(move || me.get_now(&name))
    }

    fn names(&self) -> Later<'_, Vec<String>> {
        let me = self.clone();
        blocking(move || me.names_now())
    }

    fn describe(&self) -> String {
        format!("the directory {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::{is_photo_name, PhotoDir, PhotoStore, PhotoStoreError};
    use crate::photos::content_name;

    #[tokio::test]
    async fn a_directory_keeps_photos_by_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoDir::open(&dir.path().join("photos")).unwrap();
        let (a, b) = (b"first photo".to_vec(), b"second photo".to_vec());
        let (na, nb) = (content_name(&a), content_name(&b));
        store.put(&na, a.clone()).await.unwrap();
        store.put(&na, a.clone()).await.unwrap();
        store.put(&nb, b.clone()).await.unwrap();
        let preview = format!("{na}.preview");
        store.put(&preview, b"small".to_vec()).await.unwrap();
        assert_eq!(store.get(&na).await.unwrap(), Some(a));
        assert_eq!(store.get(&nb).await.unwrap(), Some(b));
        assert_eq!(store.get(&content_name(b"never")).await.unwrap(), None);
        // A file a crash left mid-write is not a photo.
        std::fs::write(
            dir.path().join("photos").join(&na[..2]).join(".incoming-x"),
            b"half",
        )
        .unwrap();
        let mut names = store.names().await.unwrap();
        names.sort();
        let mut want = vec![na.clone(), nb, preview];
        want.sort();
        assert_eq!(names, want);
        // Reopened, the same.
        let again = PhotoDir::open(&dir.path().join("photos")).unwrap();
        assert_eq!(again.names().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn only_content_names_are_kept_or_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoDir::open(dir.path()).unwrap();
        for bad in [
            "../../etc/passwd",
            "ab",
            "",
            &"A".repeat(64),
            &format!("{}.jpg", "a".repeat(64)),
        ] {
            assert!(!is_photo_name(bad), "{bad}");
            assert!(matches!(
                store.put(bad, b"x".to_vec()).await,
                Err(PhotoStoreError::BadName(_))
            ));
            assert!(store.get(bad).await.is_err());
        }
        assert!(is_photo_name(&"0".repeat(64)));
        assert!(is_photo_name(&format!("{}.preview", "f".repeat(64))));
    }
}
