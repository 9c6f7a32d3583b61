import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** Entity ids are positive integers that fit a JSON number exactly. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    const id = /^[1-9]\d{0,15}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(id)) {
      throw new BadRequestException({
        message: 'Validation failed',
        errors: [{ field: 'id', messages: ['id must be a positive integer'] }],
      });
    }
    return id;
  }
}
