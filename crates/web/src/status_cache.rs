//! Rendered customer status pages, kept per (link, report version, language, day).
//!
//! A status link is public and unauthenticated, and the page of a large customer costs about
//! 0.2 s of CPU and 650 KB to make. Every write that can change what it shows (commitments,
//! criteria, features, customers, deals) moves the workspace's report version (database
//! triggers, see `cunjin_store::reports`), so a page made at the current version is still
//! right; the day is part of the key because "today" decides what is overdue. A hit costs two
//! indexed lookups (the link, the version) and a copy of the bytes.
//!
//! The cache is small and bounded: at most [`MAX_PAGES`] pages and [`MAX_BYTES`] in all; the
//! page used longest ago goes first. Each instance keeps its own: a page is made at most once
//! per instance and version.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Pages kept at most.
pub const MAX_PAGES: usize = 256;
/// Bytes of pages kept at most (about 50 pages of the largest customers).
pub const MAX_BYTES: usize = 32 << 20;

/// What a page is kept under: the link's token, the report version it was made at, the
/// language and the day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The status link's token.
    pub token: String,
    /// The workspace's report version read before the page's data.
    pub version: i64,
    /// `zh` or `en`.
    pub lang: &'static str,
    /// The day the page was made for.
    pub day: chrono::NaiveDate,
}

/// A kept page and its entity tag.
#[derive(Debug, Clone)]
pub struct KeptPage {
    /// The HTML.
    pub body: Bytes,
    /// A strong entity tag of the HTML, quoted.
    pub etag: String,
}

#[derive(Debug)]
struct Entry {
    page: KeptPage,
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    pages: HashMap<PageKey, Entry>,
    bytes: usize,
    clock: u64,
}

/// The kept status pages of this instance.
#[derive(Debug, Default)]
pub struct StatusPageCache {
    inner: Mutex<Inner>,
}

impl StatusPageCache {
    /// The page kept under `key`, if any.
    pub fn get(&self, key: &PageKey) -> Option<KeptPage> {
        // A poisoned lock only means another request panicked mid-update; the map is whole.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.clock += 1;
        let clock = inner.clock;
        inner.pages.get_mut(key).map(|e| {
            e.used = clock;
            e.page.clone()
        })
    }

    /// Keeps a page just made; returns it with its entity tag. Pages of the same link at an
    /// older version or day go at once (versions only grow: nobody asks for them again).
    pub fn put(&self, key: PageKey, body: Bytes) -> KeptPage {
        let etag = format!("\"{}\"", &hex_digest(&body)[..32]);
        let page = KeptPage { body, etag };
        if page.body.len() > MAX_BYTES / 4 {
            return page;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let stale: Vec<PageKey> = inner
            .pages
            .keys()
            .filter(|k| k.token == key.token && (k.version, k.day) < (key.version, key.day))
            .cloned()
            .collect();
        for k in stale {
            inner.remove(&k);
        }
        while !inner.pages.is_empty()
            && (inner.pages.len() >= MAX_PAGES || inner.bytes + page.body.len() > MAX_BYTES)
        {
            let oldest = inner
                .pages
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => inner.remove(&k),
                None => break,
            }
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.bytes += page.body.len();
        if let Some(old) = inner.pages.insert(
            key,
            Entry {
                page: page.clone(),
                used,
            },
        ) {
            inner.bytes -= old.page.body.len();
        }
        page
    }

    /// Pages kept now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pages
            .len()
    }

    /// Whether no page is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn remove(&mut self, k: &PageKey) {
        if let Some(e) = self.pages.remove(k) {
            self.bytes -= e.page.body.len();
        }
    }
}

fn hex_digest(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(token: &str, version: i64) -> PageKey {
        PageKey {
            token: token.into(),
            version,
            lang: "zh",
            day: chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        }
    }

    #[test]
    fn pages_are_kept_per_version_and_bounded() {
        let c = StatusPageCache::default();
        let a = c.put(key("a", 1), Bytes::from_static(b"<p>1</p>"));
        assert_eq!(c.get(&key("a", 1)).unwrap().etag, a.etag);
        assert!(c.get(&key("a", 2)).is_none());
        let b = c.put(key("a", 2), Bytes::from_static(b"<p>2</p>"));
        assert_ne!(a.etag, b.etag);
        assert!(c.get(&key("a", 1)).is_none(), "the older version went");
        for i in 0..(MAX_PAGES as i64 + 10) {
            c.put(key(&format!("t{i}"), 1), Bytes::from_static(b"x"));
        }
        assert_eq!(c.len(), MAX_PAGES);
        assert!(
            c.get(&key("t0", 1)).is_none(),
            "the least recently used went first"
        );
    }
}
