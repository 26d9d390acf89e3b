import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { DASHBOARD_DIR, locateDashboardDir } from './dashboard-assets';

/** The web dashboard's files, served by the process that runs the admin API. */
@Module({
  controllers: [DashboardController],
  providers: [{ provide: DASHBOARD_DIR, useFactory: () => locateDashboardDir() }],
})
export class DashboardModule {}
