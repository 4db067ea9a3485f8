//! Finding things in O(1): the 4-tuple that names a connection, and a slab that gives
//! every connection, listener and SYN-queue entry a small index plus a generation, so a
//! handle or a timer that outlived its object is recognised instead of hitting a new one.

use std::net::Ipv4Addr;

/// (local address, local port, remote address, remote port): what identifies a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FourTuple {
    pub local_ip: Ipv4Addr,
    pub remote_ip: Ipv4Addr,
    pub local_port: u16,
    pub remote_port: u16,
}

impl FourTuple {
    pub fn new(local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> Self {
        FourTuple { local_ip: local.0, remote_ip: remote.0, local_port: local.1, remote_port: remote.1 }
    }

    pub fn local(&self) -> (Ipv4Addr, u16) {
        (self.local_ip, self.local_port)
    }

    pub fn remote(&self) -> (Ipv4Addr, u16) {
        (self.remote_ip, self.remote_port)
    }

    /// The bytes the keyed hashes run over.
    pub fn to_bytes(&self) -> [u8; 12] {
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&self.local_ip.octets());
        bytes[4..8].copy_from_slice(&self.remote_ip.octets());
        bytes[8..10].copy_from_slice(&self.local_port.to_be_bytes());
        bytes[10..].copy_from_slice(&self.remote_port.to_be_bytes());
        bytes
    }
}

/// One write of all 12 bytes: the keyed hasher then runs one full word and one tail
/// instead of four small writes (this is on the path of every received segment).
impl core::hash::Hash for FourTuple {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        state.write(&self.to_bytes());
    }
}

/// Where an object lives: slot index and the generation of that slot when it was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId {
    pub index: u32,
    pub generation: u32,
}

#[derive(Debug)]
struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

/// A vector of optional values with a free list; freed slots are reused, and each reuse
/// bumps the slot's generation.
#[derive(Debug)]
pub struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { entries: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, value: T) -> SlotId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            entry.generation = entry.generation.wrapping_add(1);
            entry.value = Some(value);
            return SlotId { index, generation: entry.generation };
        }
        self.entries.push(Entry { generation: 0, value: Some(value) });
        SlotId { index: (self.entries.len() - 1) as u32, generation: 0 }
    }

    pub fn remove(&mut self, id: SlotId) -> Option<T> {
        let entry = self.entries.get_mut(id.index as usize)?;
        if entry.generation != id.generation || entry.value.is_none() {
            return None;
        }
        self.free.push(id.index);
        self.len -= 1;
        entry.value.take()
    }

    pub fn get(&self, id: SlotId) -> Option<&T> {
        let entry = self.entries.get(id.index as usize)?;
        (entry.generation == id.generation).then_some(entry.value.as_ref()?)
    }

    pub fn get_mut(&mut self, id: SlotId) -> Option<&mut T> {
        let entry = self.entries.get_mut(id.index as usize)?;
        if entry.generation != id.generation {
            return None;
        }
        entry.value.as_mut()
    }

    /// The id of whatever lives in slot `index` now.
    pub fn id_at(&self, index: u32) -> Option<SlotId> {
        let entry = self.entries.get(index as usize)?;
        entry.value.as_ref().map(|_| SlotId { index, generation: entry.generation })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (SlotId, &mut T)> {
        self.entries.iter_mut().enumerate().filter_map(|(index, entry)| {
            let generation = entry.generation;
            entry.value.as_mut().map(|v| (SlotId { index: index as u32, generation }, v))
        })
    }

    pub fn ids(&self) -> Vec<SlotId> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.value.is_some())
            .map(|(index, e)| SlotId { index: index as u32, generation: e.generation })
            .collect()
    }

    /// Bytes one slot takes, for memory accounting.
    pub fn slot_size() -> usize {
        core::mem::size_of::<Entry<T>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_miss_after_reuse() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a.index, b.index, "slot reused");
        assert_eq!(slab.get(a), None, "old generation does not see the new value");
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.len(), 1);
        assert_eq!(slab.id_at(b.index), Some(b));
    }
}
