//! geth's scalars: `Bytes32`, `Address`, `Bytes` (0x-hex), `BigInt` and `Long` (input: JSON
//! number, decimal or 0x-hex string; output: 0x-hex).
use alloy_primitives::{Address as A, B256, Bytes as B, U256};
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

fn hex_str(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s.as_str()),
        other => Err(format!("expected a 0x-prefixed hex string, got {other}")),
    }
}

/// 32 bytes, 0x-hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes32(pub B256);

#[Scalar(name = "Bytes32")]
impl ScalarType for Bytes32 {
    fn parse(value: Value) -> InputValueResult<Self> {
        let s = hex_str(&value).map_err(InputValueError::custom)?;
        s.parse::<B256>()
            .map(Bytes32)
            .map_err(|e| InputValueError::custom(format!("invalid Bytes32 {s:?}: {e}")))
    }
    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// 20 bytes, 0x-hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address(pub A);

#[Scalar(name = "Address")]
impl ScalarType for Address {
    fn parse(value: Value) -> InputValueResult<Self> {
        let s = hex_str(&value).map_err(InputValueError::custom)?;
        s.parse::<A>()
            .map(Address)
            .map_err(|e| InputValueError::custom(format!("invalid Address {s:?}: {e}")))
    }
    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}

/// Arbitrary bytes, 0x-hex (`0x` when empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes(pub B);

#[Scalar(name = "Bytes")]
impl ScalarType for Bytes {
    fn parse(value: Value) -> InputValueResult<Self> {
        let s = hex_str(&value).map_err(InputValueError::custom)?;
        s.parse::<B>()
            .map(Bytes)
            .map_err(|e| InputValueError::custom(format!("invalid Bytes {s:?}: {e}")))
    }
    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

fn parse_uint(value: &Value) -> Result<U256, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| format!("{n} is not a non-negative integer")),
        Value::String(s) => match s.strip_prefix("0x") {
            Some(h) => U256::from_str_radix(h, 16).map_err(|e| format!("invalid hex {s:?}: {e}")),
            None => U256::from_str_radix(s, 10).map_err(|e| format!("invalid decimal {s:?}: {e}")),
        },
        other => Err(format!("expected a number or string, got {other}")),
    }
}

/// Unsigned 256-bit integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BigInt(pub U256);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_uint(&value)
            .map(BigInt)
            .map_err(InputValueError::custom)
    }
    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}

/// Unsigned 64-bit integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Long(pub u64);

#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        let v = parse_uint(&value).map_err(InputValueError::custom)?;
        u64::try_from(v)
            .map(Long)
            .map_err(|_| InputValueError::custom(format!("{v} does not fit in 64 bits")))
    }
    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}
