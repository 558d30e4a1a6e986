//! The cases this process last committed or read, so that a signal usually decides on the case
//! it already holds and its commit is its only round trip to the database.
//!
//! An entry may be behind the database (another process moved the case), and that is safe:
//! every commit is fenced on the version it was decided on, so a decision taken on a stale
//! case never commits; the engine then reads the case and decides again. What a stale entry
//! must not do is *refuse*: a refusal, an expected-version mismatch or a conflict on a cached
//! case is always checked against a fresh read (which also finds a request id already
//! applied, whose first answer is returned).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::store::StoredCase;

/// How many cases one process keeps (a case is a few kilobytes of JSON as a struct).
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct CaseCache {
    cases: Mutex<HashMap<Uuid, Arc<StoredCase>>>,
}

impl CaseCache {
    pub(crate) fn get(&self, id: Uuid) -> Option<Arc<StoredCase>> {
        self.lock().get(&id).cloned()
    }

    /// Keeps `stored` unless a newer version of the case is already kept.
    pub(crate) fn put(&self, stored: Arc<StoredCase>) {
        let mut cases = self.lock();
        if cases
            .get(&stored.id)
            .is_some_and(|kept| kept.version >= stored.version)
        {
            return;
        }
        if cases.len() >= CAPACITY && !cases.contains_key(&stored.id) {
            // Any entry will do: a missing case costs one read, never a wrong answer.
            if let Some(&victim) = cases.keys().next() {
                cases.remove(&victim);
            }
        }
        cases.insert(stored.id, stored);
    }

    pub(crate) fn forget(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<StoredCase>>> {
        // The map stays consistent even if a holder panicked: every operation is one call.
        self.cases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: Uuid, version: i64) -> Arc<StoredCase> {
        let new = aijia_workflows::NewCase {
            workflow_type: aijia_workflows::WorkflowType::ProgressInquiry,
            business_key: "k".into(),
            customer_id: "c".into(),
            customer_display_name: String::new(),
            subject: String::new(),
            owner: "o".into(),
            attributes: Default::default(),
        };
        let case = aijia_workflows::start(&new, chrono::Utc::now(), &Default::default()).case;
        Arc::new(StoredCase { id, version, case })
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let cache = CaseCache::default();
        let id = Uuid::now_v7();
        cache.put(stored(id, 3));
        cache.put(stored(id, 2));
        assert_eq!(cache.get(id).map(|s| s.version), Some(3));
        cache.put(stored(id, 4));
        assert_eq!(cache.get(id).map(|s| s.version), Some(4));
        cache.forget(id);
        assert!(cache.get(id).is_none());
    }

    #[test]
    fn it_keeps_at_most_its_capacity() {
        let cache = CaseCache::default();
        let ids: Vec<Uuid> = (0..CAPACITY + 10).map(|_| Uuid::now_v7()).collect();
        for &id in &ids {
            cache.put(stored(id, 1));
        }
        assert_eq!(cache.lock().len(), CAPACITY);
        assert!(
            cache.get(ids[ids.len() - 1]).is_some(),
            "the newest is kept"
        );
    }
}
