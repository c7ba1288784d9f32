//! The protobuf wire format as the gogo-generated Kubernetes `Unmarshal` methods read it:
//! varints of at most ten bytes, lengths that must stay inside the buffer, and skipping of
//! unknown fields (groups included) the way `skipGenerated` does.
//!
//! Upstream: `staging/src/k8s.io/api/core/v1/generated.pb.go` (`Unmarshal`, `skipGenerated`;
//! every `generated.pb.go` has the same code).

use crate::error::ProtobufError;

/// Wire type 0: varint.
pub(crate) const VARINT: u8 = 0;
/// Wire type 1: 64-bit little endian.
pub(crate) const FIXED64: u8 = 1;
/// Wire type 2: length-delimited.
pub(crate) const LEN: u8 = 2;
/// Wire type 3: start group (deprecated; only skipped).
pub(crate) const START_GROUP: u8 = 3;
/// Wire type 4: end group.
pub(crate) const END_GROUP: u8 = 4;
/// Wire type 5: 32-bit little endian.
pub(crate) const FIXED32: u8 = 5;

/// A field key: number and wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    /// `int32(wire >> 3)` as Go computes it (may be ≤ 0, which callers reject).
    pub number: i32,
    /// `wire & 7`.
    pub wire_type: u8,
}

/// A cursor over one message's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// True when every byte has been consumed.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The current offset.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Reads a varint: at most ten bytes, bits past the 64th dropped, an eleventh byte an
    /// overflow error (Go's `if shift >= 64 { return ErrIntOverflowGenerated }`).
    pub(crate) fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value: u64 = 0;
        let mut shift: u32 = 0;
        loop {
            if shift >= 64 {
                return Err(ProtobufError::IntegerOverflow);
            }
            let Some(&byte) = self.data.get(self.pos) else {
                return Err(ProtobufError::UnexpectedEof);
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// Reads a field key.
    pub(crate) fn key(&mut self) -> Result<Key, ProtobufError> {
        let wire = self.varint()?;
        Ok(Key {
            // Go: `fieldNum := int32(wire >> 3)`, a truncating conversion.
            number: (wire >> 3) as u32 as i32,
            wire_type: (wire & 7) as u8,
        })
    }

    /// Reads a length prefix and returns the delimited bytes.
    pub(crate) fn length_delimited(&mut self) -> Result<&'a [u8], ProtobufError> {
        let length = self.varint()?;
        // Go reads the length into an `int` and rejects negative values.
        if length > i64::MAX as u64 {
            return Err(ProtobufError::InvalidLength);
        }
        let remaining = self.data.len() - self.pos;
        let length = usize::try_from(length).map_err(|_| ProtobufError::UnexpectedEof)?;
        if length > remaining {
            return Err(ProtobufError::UnexpectedEof);
        }
        let bytes = &self.data[self.pos..self.pos + length];
        self.pos += length;
        Ok(bytes)
    }

    /// Reads eight little-endian bytes.
    pub(crate) fn fixed64(&mut self) -> Result<u64, ProtobufError> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    /// Reads four little-endian bytes.
    pub(crate) fn fixed32(&mut self) -> Result<u32, ProtobufError> {
        let bytes = self.take(4)?;
        let mut array = [0u8; 4];
        array.copy_from_slice(bytes);
        Ok(u32::from_le_bytes(array))
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], ProtobufError> {
        if self.data.len() - self.pos < count {
            return Err(ProtobufError::UnexpectedEof);
        }
        let bytes = &self.data[self.pos..self.pos + count];
        self.pos += count;
        Ok(bytes)
    }

    /// Skips the field whose key starts at `key_start` (the reader is rewound there), like
    /// `skipGenerated`: varints, fixed widths, length-delimited values and whole groups
    /// (nested start/end group keys counted, their field numbers not matched).
    pub(crate) fn skip_field_from(&mut self, key_start: usize) -> Result<(), ProtobufError> {
        self.pos = key_start;
        let mut depth: u32 = 0;
        loop {
            let wire = self.varint()?;
            match (wire & 7) as u8 {
                VARINT => {
                    self.varint()?;
                }
                FIXED64 => {
                    self.take(8)?;
                }
                LEN => {
                    self.length_delimited()?;
                }
                START_GROUP => depth += 1,
                END_GROUP => {
                    if depth == 0 {
                        return Err(ProtobufError::UnexpectedEndOfGroup);
                    }
                    depth -= 1;
                }
                FIXED32 => {
                    self.take(4)?;
                }
                other => return Err(ProtobufError::IllegalWireType(other)),
            }
            if depth == 0 {
                return Ok(());
            }
            if self.is_empty() {
                return Err(ProtobufError::UnexpectedEof);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_limits() {
        // Ten bytes are accepted, bits past 64 dropped (Go's loop does the same).
        let mut ten = vec![0xffu8; 9];
        ten.push(0x7f);
        assert_eq!(Reader::new(&ten).varint(), Ok(u64::MAX));
        let mut eleven = vec![0xffu8; 10];
        eleven.push(0x01);
        assert_eq!(
            Reader::new(&eleven).varint(),
            Err(ProtobufError::IntegerOverflow)
        );
        assert_eq!(
            Reader::new(&[0x80]).varint(),
            Err(ProtobufError::UnexpectedEof)
        );
        assert_eq!(Reader::new(&[0xac, 0x02]).varint(), Ok(300));
    }

    #[test]
    fn length_beyond_buffer_is_eof_and_huge_is_invalid() {
        assert_eq!(
            Reader::new(&[0x05, 1, 2]).length_delimited(),
            Err(ProtobufError::UnexpectedEof)
        );
        let mut huge = vec![0xffu8; 9];
        huge.push(0x01);
        assert_eq!(
            Reader::new(&huge).length_delimited(),
            Err(ProtobufError::InvalidLength)
        );
    }

    #[test]
    fn skips_groups_and_rejects_bad_wire_types() {
        // field 1 start group, field 2 varint 5, field 1 end group, then a trailing byte.
        let data = [0x0b, 0x10, 0x05, 0x0c, 0x99];
        let mut reader = Reader::new(&data);
        reader.skip_field_from(0).unwrap();
        assert_eq!(reader.position(), 4);
        assert_eq!(
            Reader::new(&[0x0e]).skip_field_from(0),
            Err(ProtobufError::IllegalWireType(6))
        );
        assert_eq!(
            Reader::new(&[0x0c]).skip_field_from(0),
            Err(ProtobufError::UnexpectedEndOfGroup)
        );
        assert_eq!(
            Reader::new(&[0x0b]).skip_field_from(0),
            Err(ProtobufError::UnexpectedEof)
        );
    }
}
