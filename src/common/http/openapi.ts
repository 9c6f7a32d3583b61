import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI document at `/docs-json`, Swagger UI at `/docs` (`@nestjs/swagger`). */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Nestream')
    .setDescription(
      'Users and orders over HTTP; every change is stored and published to Kafka through a transactional outbox. ' +
        'Errors share one body: {statusCode, error, message, errors?: [{field, messages}]}.',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, for admin routes' })
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}
