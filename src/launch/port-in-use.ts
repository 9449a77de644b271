/** A port a launcher could not listen on, named by the variable that chooses it, so the fix is in the message. */
export class PortInUse extends Error {
  constructor(readonly variable: string, readonly port: number | string) {
    super(`port ${port} is already in use; stop whatever holds it, or choose another with ${variable}=<port>`);
  }
}

export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EADDRINUSE';
}
