/** The part of the Amadeus Node SDK (`amadeus`, no bundled types) that the client tests use. */
declare module 'amadeus' {
  import type { ClientRequest, RequestOptions } from 'node:http';

  interface AmadeusOptions {
    clientId: string;
    clientSecret: string;
    hostname?: 'test' | 'production';
    host?: string;
    port?: number;
    /** ignored when false: the SDK reads `options.ssl || process.env.AMADEUS_SSL || true` */
    ssl?: boolean;
    /** a Node http(s)-compatible object with `request(options)`; the SDK passes `protocol: 'https:'` to it */
    http?: { request(options: RequestOptions): ClientRequest };
    logLevel?: 'silent' | 'warn' | 'debug';
  }

  export interface AmadeusResponse {
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
    result: unknown;
    data: unknown;
    parsed: boolean;
  }

  class Client {
    host: string;
    port: number;
    ssl: boolean;
    get(path: string, params?: Record<string, string>): Promise<AmadeusResponse>;
    post(path: string, params?: Record<string, unknown> | string): Promise<AmadeusResponse>;
    accessToken: { accessToken?: string; expiresAt?: number };
  }

  class Amadeus {
    constructor(options: AmadeusOptions);
    client: Client;
  }

  export = Amadeus;
}

/** The SDK's error classes (one per outcome: 401 AuthenticationError, 404 NotFoundError, other 4xx ClientError...). */
declare module 'amadeus/lib/amadeus/client/errors.js' {
  import type { AmadeusResponse } from 'amadeus';

  export class ResponseError {
    response: AmadeusResponse;
    code: string;
    /** the parsed body's `errors`, else the parsed body; null when the body was not parsed */
    description: unknown;
  }
  export class NetworkError extends ResponseError {}
  export class ParserError extends ResponseError {}
  export class ServerError extends ResponseError {}
  export class ClientError extends ResponseError {}
  export class AuthenticationError extends ResponseError {}
  export class NotFoundError extends ResponseError {}
  export class UnknownError extends ResponseError {}
}
