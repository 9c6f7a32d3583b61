import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The page and its two assets sit beside this file (nest-cli.json copies them into dist/). */
const PUBLIC = join(__dirname, 'public');
const ASSETS: Record<string, { file: string; type: string }> = {
  'dashboard.css': { file: join(PUBLIC, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'dashboard.js': { file: join(PUBLIC, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  // Chart.js's UMD build, straight from node_modules: no front-end build step.
  'chart.umd.min.js': { file: join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

/**
 * `GET /dashboard`: a plain HTML page over the analytics API and the live event stream. Files are
 * served from a fixed list, read once, so no request path ever reaches the file system.
 */
@ApiExcludeController()
@Controller('dashboard')
export class DashboardHttpController {
  private readonly cache = new Map<string, Buffer>();

  @Get()
  page(@Res() res: Response): void {
    this.send(res, join(PUBLIC, 'index.html'), 'text/html; charset=utf-8');
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() res: Response): void {
    const asset = Object.prototype.hasOwnProperty.call(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new NotFoundException(`no dashboard asset ${name}`);
    this.send(res, asset.file, asset.type);
  }

  private send(res: Response, file: string, type: string): void {
    res.setHeader('content-type', type);
    res.setHeader('cache-control', 'no-cache');
    res.send(this.read(file));
  }

  private read(file: string): Buffer {
    let content = this.cache.get(file);
    if (!content) {
      content = readFileSync(file);
      this.cache.set(file, content);
    }
    return content;
  }
}
