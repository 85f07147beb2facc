import { errorMessage } from '@idm/config';

/** Where a responder reports failures; Nest's `Logger` fits. */
export interface ResponderLogger {
  error(message: string): void;
}

/** The reply sent when an answer cannot be encoded as JSON: fixed text, nothing of the answer. */
export const UNENCODABLE_REPLY = '{"ok":false,"error":"the answer could not be encoded"}';

/**
 * The JSON body of a request/reply answer. An answer JSON cannot encode — a BigInt, a cycle, a
 * `toJSON` that throws, or nothing at all (`undefined`, a function) — becomes
 * {@link UNENCODABLE_REPLY} and one log line naming `subject`, so the requester gets an answer
 * instead of waiting out its timeout. Neither the answer nor the request is logged: either may
 * hold a password; the line carries the first line of the encoder's own message (V8's messages
 * name a type or a constructor, never a value) and of any other error only its name (a `toJSON`
 * of the answer's may have put anything in its message).
 */
export function replyBody(answer: unknown, subject: string, logger: ResponderLogger): string {
  let body: string | undefined;
  try {
    body = JSON.stringify(answer);
  } catch (error) {
    logger.error(`${subject}: the answer could not be encoded as JSON: ${encoderProblem(error)}`);
    return UNENCODABLE_REPLY;
  }
  if (body === undefined) {
    logger.error(`${subject}: the answer could not be encoded as JSON: it was ${answer === undefined ? 'undefined' : typeof answer}`);
    return UNENCODABLE_REPLY;
  }
  return body;
}

/** The encoder's own complaints (V8): they name a type or a constructor, never a value. */
const ENCODER_PROBLEMS = [/^Converting circular structure to JSON/, /^Do not know how to serialize a BigInt/];

/**
 * What to log of an encoding failure: the first line of one of V8's own messages (the cycle
 * message goes on with the property path), else the error's name only.
 */
function encoderProblem(error: unknown): string {
  const first = errorMessage(error).split('\n', 1)[0]!;
  if (ENCODER_PROBLEMS.some((known) => known.test(first))) return first;
  return `${error instanceof Error ? error.name : typeof error} thrown while encoding (message not logged)`;
}
