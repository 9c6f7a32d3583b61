import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { ProjectionRebuilder } from './projection-rebuilder.service';
import { ProjectionRegistry } from './projection-registry';
import { ProjectionsAdminHttpController } from './projections.admin.http.controller';

const httpControllers = [ProjectionsAdminHttpController];

/** Rebuilding read models from the event log: `POST /admin/projections/:name/rebuild` and `npm run replay`. */
@Module({
  imports: [PersistenceModule],
  controllers: [...httpControllers],
  providers: [ProjectionRegistry, ProjectionRebuilder],
  exports: [ProjectionRegistry, ProjectionRebuilder],
})
export class ProjectionsModule {}
