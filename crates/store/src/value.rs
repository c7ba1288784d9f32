//! A stored value: its bytes, or the promise of them.
//!
//! The store never reads a value it writes, and its writer often has the bytes' source at hand
//! in a richer form (the API server: the decoded object, which its watches deliver). So a put
//! may store a value whose bytes are made later, by whoever needs them first: a reader of the
//! key, or another thread that makes them ahead of any reader. Either way the bytes are the
//! same, and made once.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use bytes::Bytes;

/// A value's bytes, as a put stored them. Derefs to the bytes (making them first if they are
/// still to be made). Cheap to clone.
#[derive(Clone, Default)]
pub struct StoreValue(Repr);

#[derive(Clone)]
enum Repr {
    Ready(Bytes),
    Later(Arc<Later>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Ready(Bytes::new())
    }
}

/// Bytes still to be made: made once, by the first reader (or [`StoreValue::make`]).
struct Later {
    bytes: OnceLock<Bytes>,
    maker: Mutex<Maker>,
    /// Signalled when the maker is provided.
    provided: Condvar,
}

/// A function that makes the bytes.
type MakeBytes = Box<dyn FnOnce() -> Bytes + Send>;

enum Maker {
    /// Not provided yet: a reader waits for [`Provider::provide`].
    Awaited,
    Provided(MakeBytes),
    /// Taken by the reader that made the bytes.
    Taken,
}

/// The writer's side of a [`StoreValue::later`]: provides the function that makes its bytes.
pub struct Provider(Arc<Later>);

impl Provider {
    /// Provides the bytes' maker. A reader that came first waited for it.
    pub fn provide(self, make: impl FnOnce() -> Bytes + Send + 'static) {
        let mut maker = self.0.lock_maker();
        *maker = Maker::Provided(Box::new(make));
        drop(maker);
        self.0.provided.notify_all();
    }
}

impl Drop for Provider {
    /// A provider dropped unused (a writer that failed between storing the value and
    /// providing for it) leaves the value empty rather than its readers waiting for ever.
    fn drop(&mut self) {
        let mut maker = self.0.lock_maker();
        if matches!(*maker, Maker::Awaited) {
            *maker = Maker::Taken;
            drop(maker);
            self.0.provided.notify_all();
        }
    }
}

impl Later {
    fn lock_maker(&self) -> std::sync::MutexGuard<'_, Maker> {
        self.maker.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bytes(&self) -> &Bytes {
        // One reader at a time runs this (the others wait inside `get_or_init`).
        self.bytes.get_or_init(|| {
            let mut maker = self.lock_maker();
            loop {
                match std::mem::replace(&mut *maker, Maker::Taken) {
                    Maker::Provided(make) => {
                        drop(maker);
                        return make();
                    }
                    Maker::Awaited => {
                        *maker = Maker::Awaited;
                        maker = self.provided.wait(maker).unwrap_or_else(|e| e.into_inner());
                    }
                    // Only after a maker that panicked, or a provider dropped unused: there
                    // are no bytes.
                    Maker::Taken => return Bytes::new(),
                }
            }
        })
    }
}

impl StoreValue {
    /// A value whose bytes the returned [`Provider`] will give the means to make. It may be
    /// stored at once; a reader of its bytes waits until they can be made, so the writer must
    /// provide (or drop the value unstored) without waiting on any reader.
    pub fn later() -> (Self, Provider) {
        let later = Arc::new(Later {
            bytes: OnceLock::new(),
            maker: Mutex::new(Maker::Awaited),
            provided: Condvar::new(),
        });
        (Self(Repr::Later(Arc::clone(&later))), Provider(later))
    }

    /// The bytes (made now if they are still to be made).
    pub fn bytes(&self) -> &Bytes {
        match &self.0 {
            Repr::Ready(bytes) => bytes,
            Repr::Later(later) => later.bytes(),
        }
    }

    /// Makes the bytes now if they are still to be made: lets another thread make them ahead
    /// of any reader.
    pub fn make(&self) {
        let _ = self.bytes();
    }
}

impl Deref for StoreValue {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl AsRef<[u8]> for StoreValue {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl fmt::Debug for StoreValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.bytes().fmt(f)
    }
}

impl PartialEq for StoreValue {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for StoreValue {}

impl PartialEq<Bytes> for StoreValue {
    fn eq(&self, other: &Bytes) -> bool {
        self.bytes() == other
    }
}

impl PartialEq<&[u8]> for StoreValue {
    fn eq(&self, other: &&[u8]) -> bool {
        self.bytes()[..] == **other
    }
}

impl PartialEq<&str> for StoreValue {
    fn eq(&self, other: &&str) -> bool {
        self.bytes()[..] == *other.as_bytes()
    }
}

impl From<Bytes> for StoreValue {
    fn from(bytes: Bytes) -> Self {
        Self(Repr::Ready(bytes))
    }
}

impl From<Vec<u8>> for StoreValue {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Repr::Ready(bytes.into()))
    }
}

impl From<String> for StoreValue {
    fn from(text: String) -> Self {
        Self(Repr::Ready(text.into()))
    }
}

impl From<&'static [u8]> for StoreValue {
    fn from(bytes: &'static [u8]) -> Self {
        Self(Repr::Ready(Bytes::from_static(bytes)))
    }
}

impl<const N: usize> From<&'static [u8; N]> for StoreValue {
    fn from(bytes: &'static [u8; N]) -> Self {
        Self(Repr::Ready(Bytes::from_static(bytes)))
    }
}

impl From<&'static str> for StoreValue {
    fn from(text: &'static str) -> Self {
        Self(Repr::Ready(Bytes::from_static(text.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_values_are_their_bytes() {
        let value = StoreValue::from("abc");
        assert_eq!(&value[..], b"abc");
        assert_eq!(value, Bytes::from_static(b"abc"));
        assert_eq!(StoreValue::default().len(), 0);
    }

    #[test]
    fn later_values_are_made_once_by_the_first_reader() {
        let (value, provider) = StoreValue::later();
        let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        provider.provide(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Bytes::from_static(b"made")
        });
        let copy = value.clone();
        assert_eq!(&copy[..], b"made");
        value.make();
        assert_eq!(value, copy);
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_reader_before_the_provider_waits_for_it() {
        let (value, provider) = StoreValue::later();
        let reader = {
            let value = value.clone();
            std::thread::spawn(move || value.bytes().clone())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        provider.provide(|| Bytes::from_static(b"late"));
        assert_eq!(reader.join().ok(), Some(Bytes::from_static(b"late")));
    }

    #[test]
    fn a_provider_dropped_unused_leaves_the_value_empty() {
        let (value, provider) = StoreValue::later();
        let reader = {
            let value = value.clone();
            std::thread::spawn(move || value.bytes().clone())
        };
        drop(provider);
        assert_eq!(reader.join().ok(), Some(Bytes::new()));
        assert!(value.is_empty());
    }

    #[test]
    fn readers_on_many_threads_see_the_same_bytes() {
        let (value, provider) = StoreValue::later();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let value = value.clone();
                std::thread::spawn(move || value.bytes().clone())
            })
            .collect();
        provider.provide(|| Bytes::from(vec![7u8; 1000]));
        for reader in readers {
            assert_eq!(reader.join().ok(), Some(Bytes::from(vec![7u8; 1000])));
        }
    }
}
