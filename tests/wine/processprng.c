/*
 * Stub bcryptprimitives.dll for Wine 8.0 (Debian bookworm).
 *
 * Recent Rust toolchains make every Windows binary (ruff.exe included) import
 * ProcessPrng from bcryptprimitives.dll. Wine 8.0 does not provide it, so the
 * program exits (code 53) before main. This DLL exports ProcessPrng and fills
 * the buffer with RtlGenRandom (advapi32!SystemFunction036), which Wine has.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll processprng.c -ladvapi32
 * Used only by the Wine tests (scripts/setup-wine.sh); never shipped.
 */
#include <windows.h>

/* RtlGenRandom is exported by advapi32 under the name SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    /* RtlGenRandom takes a ULONG length: feed it in chunks. */
    while (size > 0) {
        ULONG chunk = size > 0x40000000u ? 0x40000000u : (ULONG)size;
        if (!SystemFunction036(data, chunk)) {
            /* ProcessPrng is documented never to fail; abort rather than return zeros. */
            RaiseException(0xC00000E5 /* STATUS_INTERNAL_ERROR */, EXCEPTION_NONCONTINUABLE, 0, NULL);
        }
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
