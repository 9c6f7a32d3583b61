import { applyDecorators, CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { appConfig, AppConfig } from '../../config/app.config';

/**
 * Admin routes need `Authorization: Bearer $ADMIN_TOKEN`: 401 without a bearer token, 403 with a wrong
 * one. Without ADMIN_TOKEN configured, admin routes answer 401 (they are off).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!this.expected) throw new UnauthorizedException('Admin routes are disabled: ADMIN_TOKEN is not configured');
    if (!match) throw new UnauthorizedException('Missing bearer token');
    // Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(match[1]), this.expected)) throw new ForbiddenException('Invalid admin token');
    return true;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Marks a controller or route as admin-only, and documents it in OpenAPI. */
export function AdminOnly() {
  return applyDecorators(
    UseGuards(AdminTokenGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No bearer token, or ADMIN_TOKEN is not configured' }),
    ApiForbiddenResponse({ description: 'Wrong admin token' }),
  );
}
