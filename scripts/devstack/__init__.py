"""Building blocks of the local stack: throwaway servers, the API Gateway emulator, tokens."""
