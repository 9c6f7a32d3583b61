import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidationOptions,
} from 'class-validator';
import { EVENT_TYPES } from '../../events';
import { isValidSecret } from '../security/signing';
import { ALL_EVENTS } from '../subscriptions/subscription';
import { HasNoNul } from '../../common/http/validators';

const SUBSCRIBABLE = [...EVENT_TYPES, ALL_EVENTS];
// No whitespace or control characters (NUL among them: PostgreSQL's text cannot hold it).
const HTTP_URL = /^https?:\/\/[^\s\x00-\x1f\x7f]+$/i;
const URL_MESSAGE = { message: 'url must be an absolute http or https URL' };
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

function IsWebhookSecret(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isWebhookSecret',
      validator: {
        validate: (value) => typeof value === 'string' && isValidSecret(value),
        // Never echo the value: it is a secret.
        defaultMessage: () => 'secret must be "whsec_" followed by the base64 of 24 to 64 bytes',
      },
    },
    options,
  );
}

class UrlAndEvents {
  /** Deeper checks (scheme, credentials, private addresses) run in the service, after DNS. */
  @Transform(trimmed) @IsString() @MaxLength(2048) @Matches(HTTP_URL, URL_MESSAGE)
  url: string;

  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @IsIn(SUBSCRIBABLE, { each: true, message: `each value in events must be "*" or one of: ${EVENT_TYPES.join(', ')}` })
  events: string[];
}

/** `POST /webhooks` */
export class CreateSubscriptionDto extends UrlAndEvents {
  @IsOptional() @IsString() @MaxLength(500) @HasNoNul()
  description?: string;

  /** Given by the caller, or generated when absent. */
  @IsOptional() @IsWebhookSecret()
  secret?: string;
}

/** `PATCH /webhooks/:id`: only the fields present change; `description: null` clears it. */
export class PatchSubscriptionDto {
  @IsOptional() @Transform(trimmed) @IsString() @MaxLength(2048) @Matches(HTTP_URL, URL_MESSAGE)
  url?: string;

  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @IsIn(SUBSCRIBABLE, { each: true, message: `each value in events must be "*" or one of: ${EVENT_TYPES.join(', ')}` })
  events?: string[];

  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(500) @HasNoNul()
  description?: string | null;

  @IsOptional() @IsBoolean()
  enabled?: boolean;
}

/** `POST /webhooks/:id/rotate-secret`: the new secret, or none to have one generated. */
export class RotateSecretDto {
  @IsOptional() @IsWebhookSecret()
  secret?: string;
}
