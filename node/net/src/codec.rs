//! Length-limited bytes codec for the request-response protocols.
//!
//! Frame: 4-byte big-endian length, then that many payload bytes. A frame whose announced
//! length exceeds the protocol's limit is refused before any payload is read, with an
//! [`std::io::ErrorKind::InvalidData`] error whose message starts with [`OVERSIZED`]; the
//! swarm task turns such inbound failures into a penalty for the sender.

use std::io;

use futures::prelude::*;
use libp2p::StreamProtocol;

/// Prefix of the error message for an oversized frame.
pub(crate) const OVERSIZED: &str = "oversized frame";

/// Bytes in, bytes out, with per-direction size limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BytesCodec {
    /// Largest request accepted (and sent).
    pub(crate) max_request: usize,
    /// Largest response accepted (and sent).
    pub(crate) max_response: usize,
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{OVERSIZED}: {len} bytes announced, limit {max}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    data: &[u8],
    max: usize,
) -> io::Result<()> {
    // The sender enforces its own limit too (the handle checks first and gives a clear error).
    if data.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{OVERSIZED}: {} bytes to send, limit {max}", data.len()),
        ));
    }
    let len = u32::try_from(data.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than u32"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(data).await?;
    io.close().await
}

impl libp2p::request_response::Codec for BytesCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response).await
    }
}
