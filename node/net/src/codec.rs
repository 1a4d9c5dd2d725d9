//! Length-limited bytes codec for the request-response protocols.
//!
//! Frame: 4-byte big-endian length, then that many payload bytes. A frame whose announced
//! length exceeds the protocol's limit is refused before any payload is read:
//! - an inbound *request* decodes to [`Frame::Oversized`] (libp2p 0.57 swallows `read_request`
//!   errors, so the sentinel is how the swarm task learns of it and penalises the sender);
//! - an inbound *response* fails with [`std::io::ErrorKind::InvalidData`] (surfaced as an
//!   outbound failure, also penalised).

use std::io;

use futures::prelude::*;
use libp2p::StreamProtocol;

/// Prefix of the error message for an oversized frame.
pub(crate) const OVERSIZED: &str = "oversized frame";

/// A request as read from or written to a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A payload within the limit.
    Data(Vec<u8>),
    /// The peer announced `len` bytes, more than `max`; nothing more was read.
    Oversized { len: usize, max: usize },
}

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
    type Request = Frame;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut len = [0u8; 4];
        io.read_exact(&mut len).await?;
        let len = u32::from_be_bytes(len) as usize;
        if len > self.max_request {
            return Ok(Frame::Oversized {
                len,
                max: self.max_request,
            });
        }
        let mut buf = vec![0u8; len];
        io.read_exact(&mut buf).await?;
        Ok(Frame::Data(buf))
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
        req: Frame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match req {
            Frame::Data(data) => write_frame(io, &data, self.max_request).await,
            Frame::Oversized { len, max } => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{OVERSIZED}: {len} bytes, limit {max}"),
            )),
        }
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
