//! Postings: an id-ordered list kept as one sled entry per 1,024 ids.
//!
//! sled 0.34 splits a leaf at 16 entries whatever their size, and keeps bookkeeping for every
//! page in memory from start-up on. One entry per id therefore cost a page for every ~9 ids of
//! every list (status, unit with status, an actor's log), and start-up time and memory grew
//! with it. A postings entry is `prefix ++ be(id >> BITS)` whose value is the sorted low bits
//! of its ids, two bytes each (at most 2 KiB).

use super::keys::{be, key, read_be};
use super::StoreError;

/// Low bits of an id kept in the value; the rest is in the key.
pub const BITS: u32 = 10;
const LOW: u64 = (1 << BITS) - 1;

/// The entry holding `id` in the list `prefix`.
pub fn bucket_key(prefix: &[u8], id: u64) -> Vec<u8> {
    key(&[prefix, &be(id >> BITS)])
}

/// The ids of one entry, ascending; `bucket` is the number after the prefix.
pub fn ids(bucket: u64, v: &[u8]) -> impl DoubleEndedIterator<Item = u64> + '_ {
    v.chunks_exact(2)
        .map(move |c| (bucket << BITS) | u64::from(u16::from_be_bytes([c[0], c[1]])))
}

fn low(id: u64) -> [u8; 2] {
    ((id & LOW) as u16).to_be_bytes()
}

/// Where `id` is (Ok) or would go (Err) among the entry's two-byte values.
fn find(v: &[u8], id: u64) -> Result<usize, usize> {
    let want = low(id);
    let n = v.len() / 2;
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match v[mid * 2..mid * 2 + 2].cmp(&want[..]) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// The entry's value with `id` added (unchanged if it was there).
pub fn with(v: &[u8], id: u64) -> Vec<u8> {
    let mut out = v[..v.len() / 2 * 2].to_vec();
    if let Err(at) = find(&out, id) {
        out.splice(at * 2..at * 2, low(id));
    }
    out
}

/// The entry's value with `id` taken out (unchanged if it was not there).
pub fn without(v: &[u8], id: u64) -> Vec<u8> {
    let mut out = v[..v.len() / 2 * 2].to_vec();
    if let Ok(at) = find(&out, id) {
        out.drain(at * 2..at * 2 + 2);
    }
    out
}

/// The ids of the list `prefix` in `tree`, highest first, those below `below` only when given.
pub fn descending(
    tree: &sled::Tree,
    prefix: &[u8],
    below: Option<u64>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let end = match below {
        Some(id) => bucket_key(prefix, id),
        None => key(&[prefix, &[0xff; 9]]),
    };
    walk(
        tree.range(prefix.to_vec()..=end).rev(),
        prefix.len(),
        move |b, v| {
            ids(b, v)
                .rev()
                .filter(|id| below.is_none_or(|x| *id < x))
                .collect()
        },
    )
}

/// The ids of the list `prefix` in `tree`, lowest first, those above `after` only.
pub fn ascending(
    tree: &sled::Tree,
    prefix: &[u8],
    after: u64,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let end = key(&[prefix, &[0xff; 9]]);
    walk(
        tree.range(bucket_key(prefix, after)..=end),
        prefix.len(),
        move |b, v| ids(b, v).filter(|id| *id > after).collect(),
    )
}

/// The ids of several lists together, highest first, each once (a record is on one list of
/// a family at a time, but nothing here relies on it), those below `below` only when given.
pub fn merged_descending(
    tree: &sled::Tree,
    prefixes: &[Vec<u8>],
    below: Option<u64>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let mut lists: Vec<_> = prefixes
        .iter()
        .map(|p| descending(tree, p, below).peekable())
        .collect();
    let mut last: Option<u64> = None;
    std::iter::from_fn(move || loop {
        // The list whose next id is the highest; an error is passed on as it comes.
        let mut best: Option<(usize, u64)> = None;
        for (i, it) in lists.iter_mut().enumerate() {
            match it.peek() {
                Some(Ok(id)) if best.is_none_or(|(_, b)| *id > b) => best = Some((i, *id)),
                Some(Ok(_)) | None => {}
                Some(Err(_)) => return it.next(),
            }
        }
        let (i, id) = best?;
        lists[i].next();
        if last == Some(id) {
            continue;
        }
        last = Some(id);
        return Some(Ok(id));
    })
}

/// The ids both descending walks have, highest first.
pub fn intersect_descending(
    a: impl Iterator<Item = Result<u64, StoreError>>,
    b: impl Iterator<Item = Result<u64, StoreError>>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || loop {
        let (x, y) = match (a.peek()?, b.peek()?) {
            (Ok(x), Ok(y)) => (*x, *y),
            (Err(_), _) => return a.next(),
            (_, Err(_)) => return b.next(),
        };
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => {
                b.next();
                return a.next();
            }
            // Descending: the higher one cannot be in the other walk any more.
            std::cmp::Ordering::Greater => {
                a.next();
            }
            std::cmp::Ordering::Less => {
                b.next();
            }
        }
    })
}

/// The numbers from `first` to `last`, ascending, except those the ascending walk `except`
/// gives.
pub fn ascending_except(
    first: u64,
    last: u64,
    except: impl Iterator<Item = Result<u64, StoreError>>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let mut except = except.peekable();
    let mut n = first;
    std::iter::from_fn(move || loop {
        if n > last {
            return None;
        }
        match except.peek() {
            Some(Ok(x)) if *x < n => {
                except.next();
                continue;
            }
            Some(Ok(x)) if *x == n => {
                except.next();
                n += 1;
                continue;
            }
            Some(Err(_)) => return except.next(),
            _ => {}
        }
        let out = n;
        n += 1;
        return Some(Ok(out));
    })
}

/// Yields the ids of each entry in turn, in the order `pick` gives them (`pick` gets the
/// entry's number after the prefix and its value).
fn walk(
    mut entries: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    plen: usize,
    pick: impl Fn(u64, &[u8]) -> std::collections::VecDeque<u64>,
) -> impl Iterator<Item = Result<u64, StoreError>> {
    let mut buf = std::collections::VecDeque::new();
    std::iter::from_fn(move || loop {
        if let Some(id) = buf.pop_front() {
            return Some(Ok(id));
        }
        match entries.next()? {
            Err(e) => return Some(Err(e.into())),
            Ok((k, v)) => {
                if let Some(b) = k.get(plen..).and_then(read_be) {
                    buf = pick(b, &v);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Adding and removing ids through entries gives the same set as a BTreeSet, and
        /// both iterators walk it in order from any cursor.
        #[test]
        fn postings_behave_like_a_sorted_set(
            ops in proptest::collection::vec((any::<bool>(), 0u64..5000), 0..300),
            cursor in 0u64..5200,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let db = sled::Config::new().path(dir.path()).temporary(true).open().unwrap();
            let tree = db.open_tree("t").unwrap();
            let prefix = b"px".to_vec();
            // A neighbour list whose keys sort right after ours must never leak in.
            tree.insert(bucket_key(b"py", 3), with(&[], 3)).unwrap();
            let mut model = std::collections::BTreeSet::new();
            for (add, id) in ops {
                let k = bucket_key(&prefix, id);
                let v = tree.get(&k).unwrap().map(|v| v.to_vec()).unwrap_or_default();
                let nv = if add { model.insert(id); with(&v, id) } else { model.remove(&id); without(&v, id) };
                if nv.is_empty() { tree.remove(&k).unwrap(); } else { tree.insert(&k, nv).unwrap(); }
            }
            let all: Vec<u64> = descending(&tree, &prefix, None).map(|r| r.unwrap()).collect();
            prop_assert_eq!(all, model.iter().rev().copied().collect::<Vec<_>>());
            let below: Vec<u64> = descending(&tree, &prefix, Some(cursor)).map(|r| r.unwrap()).collect();
            prop_assert_eq!(below, model.range(..cursor).rev().copied().collect::<Vec<_>>());
            let above: Vec<u64> = ascending(&tree, &prefix, cursor).map(|r| r.unwrap()).collect();
            prop_assert_eq!(above, model.range(cursor + 1..).copied().collect::<Vec<_>>());
        }

        /// Intersections and exceptions walk like their sets.
        #[test]
        fn intersections_and_exceptions_walk_like_sets(
            a in proptest::collection::btree_set(0u64..300, 0..150),
            b in proptest::collection::btree_set(0u64..300, 0..150),
            first in 0u64..300,
            len in 0u64..300,
        ) {
            let walk = |s: &std::collections::BTreeSet<u64>| {
                s.iter().rev().copied().map(Ok).collect::<Vec<_>>().into_iter()
            };
            let both: Vec<u64> = intersect_descending(walk(&a), walk(&b)).map(|r| r.unwrap()).collect();
            let mut want: Vec<u64> = a.intersection(&b).copied().collect();
            want.reverse();
            prop_assert_eq!(both, want);
            let last = first + len;
            let rest: Vec<u64> = ascending_except(first, last, a.iter().copied().map(Ok))
                .map(|r| r.unwrap())
                .collect();
            let want: Vec<u64> = (first..=last).filter(|n| !a.contains(n)).collect();
            prop_assert_eq!(rest, want);
        }

        /// Several lists merge into one descending walk without repeats.
        #[test]
        fn merged_lists_walk_like_their_union(
            a in proptest::collection::btree_set(0u64..5000, 0..200),
            b in proptest::collection::btree_set(0u64..5000, 0..200),
            cursor in proptest::option::of(0u64..5200),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let db = sled::Config::new().path(dir.path()).temporary(true).open().unwrap();
            let tree = db.open_tree("t").unwrap();
            for (prefix, ids) in [(b"pa", &a), (b"pb", &b)] {
                for id in ids {
                    let k = bucket_key(prefix, *id);
                    let v = tree.get(&k).unwrap().map(|v| v.to_vec()).unwrap_or_default();
                    tree.insert(&k, with(&v, *id)).unwrap();
                }
            }
            let got: Vec<u64> = merged_descending(&tree, &[b"pa".to_vec(), b"pb".to_vec()], cursor)
                .map(|r| r.unwrap())
                .collect();
            let union: std::collections::BTreeSet<u64> = a.union(&b).copied().collect();
            let want: Vec<u64> = union.into_iter().rev()
                .filter(|id| cursor.is_none_or(|c| *id < c)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
