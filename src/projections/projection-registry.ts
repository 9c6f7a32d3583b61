import { Injectable } from '@nestjs/common';
import { EntityNotFoundError } from '../common/errors';
import type { Projection } from './projection';
import { PROJECTIONS } from './projections';
import { ident } from './rows-writer';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** The rebuildable read models, by name; seeded with PROJECTIONS. */
@Injectable()
export class ProjectionRegistry {
  private readonly byName = new Map<string, Projection>();

  constructor() {
    for (const projection of PROJECTIONS) this.register(projection);
  }

  register(projection: Projection): void {
    if (!NAME.test(projection.name)) throw new Error(`projection name ${JSON.stringify(projection.name)} must be lower-case letters, digits and dashes`);
    if (this.byName.has(projection.name)) throw new Error(`projection ${projection.name} is registered twice`);
    // Table and column names are spliced into SQL, so only plain identifiers get in.
    for (const t of projection.tables) {
      if (t.key.length === 0) throw new Error(`projection ${projection.name}: table ${t.name} needs its key columns`);
      [t.name, ...t.key, ...t.columns, ...(t.timestamps ?? [])].forEach(ident);
    }
    this.byName.set(projection.name, projection);
  }

  get(name: string): Projection {
    const projection = this.byName.get(name);
    if (!projection) throw new EntityNotFoundError('projection', name, `no projection named ${name} (known: ${this.names().join(', ')})`);
    return projection;
  }

  list(): Projection[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
