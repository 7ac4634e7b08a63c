//! A small serde `Deserializer` over toml's spanned document tree (`DeTable`).
//!
//! Why not `toml::from_str`: its deserializer inlines the whole value, table
//! and array machinery (span bookkeeping, integer widening, key paths) into
//! every visitor of the schema, one heavy copy per struct and field type; that
//! was ~175 kB of the x86_64 binary (issue 18, every package <= 1 MiB). Here the
//! generic methods are one `match` each and the rest lives in plain functions.
//!
//! Errors follow toml's rules so that diagnostics do not change: serde's own
//! messages, and an error without a place gets the span of the innermost value
//! (or key) it came out of. Like toml, array elements do not add their span: an
//! error raised after an element's deserializer returned (e.g. a bad prefix
//! string) points at the whole array.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use std::fmt;
use std::ops::Range;
use toml::de::{DeFloat, DeInteger, DeString, DeTable, DeValue};
use toml::Spanned;

/// A parse or deserialization error: serde's (or toml's) message and the byte
/// range it is about, when it has one.
#[derive(Debug)]
pub struct Error {
    pub message: String,
    pub span: Option<Range<usize>>,
}

impl Error {
    fn at(message: &str, span: Range<usize>) -> Self {
        Error {
            message: message.to_string(),
            span: Some(span),
        }
    }

    /// The innermost place wins: only an error that has none gets `span`.
    fn or_span(mut self, span: Range<usize>) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            span: None,
        }
    }
}

/// Parse a TOML document and deserialize it into `T`.
pub fn from_str<T: DeserializeOwned>(src: &str) -> Result<T, Error> {
    let root = DeTable::parse(src).map_err(|e| Error {
        message: e.message().to_string(),
        span: e.span(),
    })?;
    let span = root.span();
    let root = DeValue::Table(root.into_inner());
    T::deserialize(Value { v: &root, span })
}

/// One value of the tree and where it is written.
struct Value<'a, 'i> {
    v: &'a DeValue<'i>,
    span: Range<usize>,
}

impl<'a, 'i> Value<'a, 'i> {
    fn of(s: &'a Spanned<DeValue<'i>>) -> Self {
        Value {
            v: s.get_ref(),
            span: s.span(),
        }
    }
}

/// A TOML integer in the narrowest visitor call that holds it (toml's order).
enum Int {
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
}

fn integer(i: &DeInteger<'_>) -> Result<Int, Error> {
    let (s, r) = (i.as_str(), i.radix());
    if let Ok(n) = i64::from_str_radix(s, r) {
        Ok(Int::I64(n))
    } else if let Ok(n) = u64::from_str_radix(s, r) {
        Ok(Int::U64(n))
    } else if let Ok(n) = i128::from_str_radix(s, r) {
        Ok(Int::I128(n))
    } else if let Ok(n) = u128::from_str_radix(s, r) {
        Ok(Int::U128(n))
    } else {
        Err(de::Error::custom("integer number overflowed"))
    }
}

/// toml's rule: an infinity is only one when written as `inf`.
fn float(f: &DeFloat<'_>) -> Result<f64, Error> {
    match f.as_str().parse::<f64>() {
        Ok(x) if !x.is_infinite() || f.as_str().contains("inf") => Ok(x),
        _ => Err(de::Error::custom("floating-point number overflowed")),
    }
}

/// Strings, numbers, booleans and datetimes; callers handle arrays and tables.
fn leaf<'de, V: Visitor<'de>>(v: &DeValue<'_>, visitor: V) -> Result<V::Value, Error> {
    match v {
        DeValue::String(s) => visitor.visit_str(s),
        DeValue::Integer(i) => match integer(i) {
            Ok(Int::I64(n)) => visitor.visit_i64(n),
            Ok(Int::U64(n)) => visitor.visit_u64(n),
            Ok(Int::I128(n)) => visitor.visit_i128(n),
            Ok(Int::U128(n)) => visitor.visit_u128(n),
            Err(e) => Err(e),
        },
        DeValue::Float(f) => float(f).and_then(|x| visitor.visit_f64(x)),
        DeValue::Boolean(b) => visitor.visit_bool(*b),
        // toml hands a datetime over as a one-entry map; nothing in the
        // schema takes one, so this is the error every visitor gave.
        _ => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
    }
}

impl<'de> de::Deserializer<'de> for Value<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let r = match self.v {
            DeValue::Array(a) => visitor.visit_seq(Seq(a.into_iter())),
            DeValue::Table(t) => visitor.visit_map(Map::new(t)),
            v => leaf(v, visitor),
        };
        r.map_err(|e| e.or_span(self.span))
    }

    /// Tables only. toml also took an array as a struct with positional
    /// fields, which nobody writes on purpose and which linked serde's
    /// derived `visit_seq` of every struct, a few kB each (issue 18).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let r = match self.v {
            DeValue::Table(t) => visitor.visit_map(Map::new(t)),
            DeValue::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            v => leaf(v, visitor),
        };
        r.map_err(|e| e.or_span(self.span))
    }

    // A present key is `Some`; absent keys never reach the deserializer.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.span.clone();
        visitor.visit_some(self).map_err(|e| e.or_span(span))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let span = self.span.clone();
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.or_span(span))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let span = self.span;
        match self.v {
            DeValue::String(s) => visitor.visit_enum(s.as_ref().into_deserializer()),
            DeValue::Table(t) => table_enum(t, span.clone(), visitor),
            _ => Err(Error::at("wanted string or table", span.clone())),
        }
        .map_err(|e| e.or_span(span))
    }

    serde::forward_to_deserialize_any! {
        bool u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 char str string seq
        bytes byte_buf map unit ignored_any unit_struct tuple_struct tuple
        identifier
    }
}

struct Seq<'a, 'i>(std::slice::Iter<'a, Spanned<DeValue<'i>>>);

impl<'de> de::SeqAccess<'de> for Seq<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(v) => seed.deserialize(Value::of(v)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

type Entries<'a, 'i> = toml::map::Iter<'a, Spanned<DeString<'i>>, Spanned<DeValue<'i>>>;

struct Map<'a, 'i> {
    iter: Entries<'a, 'i>,
    /// The value of the key last handed out.
    value: Option<&'a Spanned<DeValue<'i>>>,
}

impl<'a, 'i> Map<'a, 'i> {
    fn new(t: &'a DeTable<'i>) -> Self {
        Map {
            iter: t.iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Map<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(v);
        let key: de::value::StrDeserializer<'_, Error> = k.get_ref().as_ref().into_deserializer();
        seed.deserialize(key)
            .map(Some)
            .map_err(|e| e.or_span(k.span()))
    }

    // Also places errors raised after the value's deserializer returned, such
    // as a prefix string that does not parse.
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let v = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value asked for before its key"))?;
        seed.deserialize(Value::of(v))
            .map_err(|e| e.or_span(v.span()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// `key = { variant = ... }`, toml's externally tagged enum form.
fn table_enum<'de, V: Visitor<'de>>(
    t: &DeTable<'_>,
    span: Range<usize>,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut it = t.iter();
    match (it.next(), it.next()) {
        (Some((k, v)), None) => visitor.visit_enum(Variant { key: k, value: v }),
        (None, _) => Err(Error::at(
            "wanted exactly 1 element, found 0 elements",
            span,
        )),
        (Some(_), Some(_)) => Err(Error::at(
            "wanted exactly 1 element, more than 1 element",
            span,
        )),
    }
}

struct Variant<'a, 'i> {
    key: &'a Spanned<DeString<'i>>,
    value: &'a Spanned<DeValue<'i>>,
}

impl<'de, 'a, 'i> de::EnumAccess<'de> for Variant<'a, 'i> {
    type Error = Error;
    type Variant = Value<'a, 'i>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Error> {
        let key: de::value::StrDeserializer<'_, Error> =
            self.key.get_ref().as_ref().into_deserializer();
        let tag = seed
            .deserialize(key)
            .map_err(|e| e.or_span(self.key.span()))?;
        Ok((tag, Value::of(self.value)))
    }
}

impl<'de> de::VariantAccess<'de> for Value<'_, '_> {
    type Error = Error;

    /// A unit variant carries an empty table or array, as in toml.
    fn unit_variant(self) -> Result<(), Error> {
        match self.v {
            DeValue::Array(a) if a.is_empty() => Ok(()),
            DeValue::Table(t) if t.is_empty() => Ok(()),
            DeValue::Array(_) => Err(Error::at("expected empty array", self.span)),
            DeValue::Table(_) => Err(Error::at("expected empty table", self.span)),
            v => Err(Error::at(
                &format!("expected table, found {}", v.type_str()),
                self.span,
            )),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests;
