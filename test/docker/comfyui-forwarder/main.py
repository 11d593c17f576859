"""Stand-in for ComfyUI's main.py in the container test: what the machine's ComfyUI installer
checks out (from a local git repository, so the image never needs GitHub) and PM2 runs as
comfyui-gpuN. It takes ComfyUI's own flags and forwards every connection on its port, byte for
byte (HTTP and the /ws WebSocket alike), to the ComfyUI emulator of its GPU, a compose service
named comfyui-gpu<CUDA_VISIBLE_DEVICES> listening on 8188."""

import argparse
import asyncio
import os
import signal

EMULATOR_PORT = 8188


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188)
    args, _ = parser.parse_known_args()
    target = f"comfyui-gpu{os.environ.get('CUDA_VISIBLE_DEVICES', '0')}"

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target, EMULATOR_PORT)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(forward, args.listen, args.port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"To see the GUI go to: http://{args.listen}:{args.port} (forwarded to {target}:{EMULATOR_PORT})", flush=True)
    async with server:
        await stop.wait()


asyncio.run(main())
